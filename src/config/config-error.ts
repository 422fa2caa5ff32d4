/** A variable with a wrong value: the start stops with this one line, naming the variable and the rule. */
export class ConfigError extends Error {
  constructor(variable: string, rule: string) {
    super(`invalid configuration: ${variable} ${rule}`);
    this.name = 'ConfigError';
  }
}
