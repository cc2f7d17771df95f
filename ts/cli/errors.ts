/** A usage or data error: printed as one line, exit code 2. @internal */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message.replace(/\s*\n\s*/g, ' '));
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
