/**
 * The one place where text becomes part of a Graph query. Every value that reaches `$filter`,
 * `$search`, `$orderby` or a function parameter is built here, and the chokepoint
 * (shared/graph/client.ts) percent-encodes every query value on its way out, so text from a mail
 * or a chat can never add a query option (`&`), cut the query (`#`), or turn into a quote at Graph
 * (`%27`, `%22`). https://learn.microsoft.com/graph/query-parameters#encoding-query-parameters
 */

/** An OData string literal: single quotes doubled (query-parameters.md, "Escaping single quotes"). */
export function odataString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * A `$search` value for Outlook: one KQL phrase in double quotes (search-query-parameter.md). KQL
 * has no escape inside a phrase, and its tokenizer treats quotes and backslashes as separators, so
 * they become spaces: the same words match and nothing can close the phrase (no `OR`, no `from:`).
 */
export function searchPhrase(text: string): string {
  return `"${text.replace(/["\\]/g, ' ').trim()}"`;
}

/**
 * An OData literal inside a function call in the URL path (e.g. `search(q='...')`): doubled quotes,
 * then percent-encoded as a path segment.
 */
export function pathFunctionString(text: string): string {
  return `'${encodeURIComponent(text.replace(/'/g, "''"))}'`;
}
