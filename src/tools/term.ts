// Terminal facts the commands' output depends on.

/** colorWanted says whether output to a terminal may use colours (https://no-color.org: NO_COLOR turns them off). */
export function colorWanted(tty: boolean): boolean {
  const noColor = process.env['NO_COLOR'];
  return tty && (noColor === undefined || noColor === '');
}
