// Compensations, registered right after the step they undo and run in reverse before the point of no return.
import { errorText } from '../../domain/errors';
import type { Progress } from './progress';

interface Compensation {
  name: string;
  undo: () => Promise<unknown>;
}

export class Compensations {
  private readonly stack: Compensation[] = [];

  constructor(private readonly progress: Progress) {}

  add(name: string, undo: () => Promise<unknown>): void {
    this.stack.push({ name, undo });
  }

  get size(): number {
    return this.stack.length;
  }

  /** Undo everything, newest first. A compensation that still fails after its retries is reported, not hidden. */
  async runAll(): Promise<{ undone: string[]; failed: Array<{ name: string; error: string }> }> {
    const undone: string[] = [];
    const failed: Array<{ name: string; error: string }> = [];
    while (this.stack.length > 0) {
      const c = this.stack.pop()!;
      try {
        await this.progress.run(`undo: ${c.name}`, c.undo);
        undone.push(c.name);
      } catch (err) {
        failed.push({ name: c.name, error: errorText(err) });
      }
    }
    return { undone, failed };
  }
}
