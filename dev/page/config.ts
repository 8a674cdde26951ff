/** What the dev chat page's script is configured with (a JSON block in the page). */
export interface ChatPageConfig {
  /** The ChatKit endpoint; relative, so the page and the API share an origin. */
  apiUrl: string;
  /** Where the page gets (and, on a 401, renews) its token; null: the page asks for one. */
  tokenUrl: string | null;
  /** The user the page signs in as (`?user=` on the page's URL; default dev-user). */
  user: string;
  domainKey: string;
  /** ChatKit's web component, from OpenAI's CDN as ChatKit documents it. */
  scriptUrl: string;
  /** The agent's tools, offered in the composer's tool menu. */
  tools: string[];
  /** Attachments are on when the server has an attachment store. */
  attachments: { maxBytes: number } | null;
}

/** What POST tokenUrl answers. */
export interface TokenResponse {
  token: string;
  user: string;
}
