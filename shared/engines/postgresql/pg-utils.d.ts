// pg's own helpers module (pg.escapeLiteral is its escapeLiteral), which @types/pg does not
// declare: sql.ts imports it alone so that quoting a literal does not load the whole driver.
declare module 'pg/lib/utils' {
  /** 'text' with quotes doubled, as E'...' with doubled backslashes when it holds a backslash. */
  export function escapeLiteral(text: string): string;
}
