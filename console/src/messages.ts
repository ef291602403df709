// What the page says when a call fails: sentences for people, never bare error codes.
import { ApiProblem } from './api.js';

export function problemSentence(problem: unknown, now = new Date()): string {
  if (!(problem instanceof ApiProblem)) return 'Something went wrong in this page. Reload it and try again.';
  switch (problem.status) {
    case 0:
      return problem.sentence;
    case 401:
      return 'The username or password is wrong, or the user is disabled or locked.';
    case 403:
      return 'You need the Can manage account permission to do this.';
    case 429:
      return `The account has used all its API calls for this hour. ${retryWhen(problem.retryAfterSeconds, now)}`;
    case 503:
      return 'The service is unavailable for a moment. Try again in a few seconds.';
    default:
      if (problem.status >= 500) return `${problem.sentence || 'The gateway could not do this.'} Try again later.`;
      return problem.sentence || 'The gateway refused this request.';
  }
}

function retryWhen(seconds: number | null, now: Date): string {
  if (seconds === null) return 'Try again later.';
  const at = new Date(now.getTime() + seconds * 1000);
  const time = at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const minutes = Math.ceil(seconds / 60);
  return `Try again in ${minutes === 1 ? 'a minute' : `${minutes} minutes`} (at ${time}).`;
}
