// The admin API as the page calls it: the bearer token from sessionStorage in the Authorization
// header (never in a URL or a cookie), errors as the API's problem details.

const TOKEN_KEY = 'experiment-assigner.token';

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** An answer other than 2xx, as the API's problem+json says it (or the status when it does not). */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly problems: string[] = [],
  ) {
    super(`${title}: ${detail}`);
  }
}

interface ProblemJson {
  title?: unknown;
  detail?: unknown;
  problems?: unknown;
}

/** GETs a JSON resource of the API; the page changes nothing, so it only reads. */
export async function getJson<T>(path: string): Promise<T> {
  const token = session.token();
  let response: Response;
  try {
    response = await fetch(path, {
      headers: {
        Accept: 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (error) {
    throw new ApiProblem(0, 'The admin API did not answer', (error as Error).message);
  }
  const text = await response.text();
  if (!response.ok) {
    let problem: ProblemJson = {};
    try {
      problem = JSON.parse(text) as ProblemJson;
    } catch {
      // Not problem+json: the status says it.
    }
    throw new ApiProblem(
      response.status,
      typeof problem.title === 'string' ? problem.title : response.statusText || 'Error',
      typeof problem.detail === 'string' ? problem.detail : `HTTP ${response.status}`,
      Array.isArray(problem.problems) ? problem.problems.map(String) : [],
    );
  }
  return JSON.parse(text) as T;
}

/** A path segment or query value, escaped. */
export const encode = encodeURIComponent;
