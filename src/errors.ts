/** A shape, rank, size or geometry that does not fit. Thrown before any work is done. */
export class ShapeError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}
