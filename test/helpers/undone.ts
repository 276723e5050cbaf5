// The compensations a failed run names after "Undone: ", in the order they ran.
export function undoneSteps(message: string): string[] {
  const at = message.indexOf('Undone: ');
  return at < 0 ? [] : message.slice(at + 'Undone: '.length).split(', ');
}

// Steps that ran side by side (DNS beside the scale) are undone in the order they finished: compare as sets.
export function sameSteps(actual: string[], expected: string[]): boolean {
  return JSON.stringify([...actual].sort()) === JSON.stringify([...expected].sort());
}
