/** One offending field of a refused request: its path (`headers.X-Key`, `activityTypes[0]`) and the rule it broke. */
export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details: the body of every error Herald answers (application/problem+json). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}
