/**
 * Text from elsewhere (the API's contacts, the IdP's error descriptions) is
 * printed to a terminal, where control characters are commands: an escape
 * sequence in a contact's name could rewrite the screen or the window title.
 * They are replaced before printing.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

export function printable(text: string): string {
  return text.replace(CONTROL_CHARACTERS, "\uFFFD");
}
