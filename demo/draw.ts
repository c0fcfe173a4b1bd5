// The drawing canvas, and the preparation that makes a drawing look like an MNIST digit: MNIST
// digits are scaled so that their longer side is 20 pixels and placed in a 28×28 field with their
// centre of mass at the centre. A model trained on them reads a drawing prepared the same way.

const SIZE = 28;
const BOX = 20;

/** Lets the user draw on `canvas` with a mouse, pen or finger; calls `onChange` as strokes grow. */
export function drawingPad(canvas: HTMLCanvasElement, onChange: () => void): { clear(): void } {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const clear = () => {
    ctx.fillStyle = 'black';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  };
  clear();
  let last: { x: number; y: number } | undefined;
  const at = (e: PointerEvent) => {
    const r = canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * canvas.width) / r.width, y: ((e.clientY - r.top) * canvas.height) / r.height };
  };
  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
    stroke(last);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (last) stroke(at(e));
  });
  const end = () => (last = undefined);
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  function stroke(to: { x: number; y: number }) {
    ctx.strokeStyle = 'white';
    ctx.lineWidth = canvas.width / 14;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(last!.x, last!.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
    last = to;
    onChange();
  }
  return { clear };
}

/** The drawing as a 28×28 MNIST-style image with values in [0, 1], or undefined while it is empty. */
export function toDigit(canvas: HTMLCanvasElement, preview?: HTMLCanvasElement): Float32Array | undefined {
  const { width, height } = canvas;
  const ink = canvas.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, width, height).data;
  let top = height, bottom = -1, left = width, right = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[(y * width + x) * 4] < 16) continue;
      top = Math.min(top, y); bottom = Math.max(bottom, y);
      left = Math.min(left, x); right = Math.max(right, x);
    }
  }
  if (bottom < 0) return undefined;
  const w = right - left + 1, h = bottom - top + 1;
  const scale = BOX / Math.max(w, h);
  const small = document.createElement('canvas');
  small.width = small.height = SIZE;
  const sctx = small.getContext('2d', { willReadFrequently: true })!;
  sctx.imageSmoothingEnabled = true;
  sctx.imageSmoothingQuality = 'high';
  sctx.drawImage(canvas, left, top, w, h, (SIZE - w * scale) / 2, (SIZE - h * scale) / 2, w * scale, h * scale);
  const boxed = sctx.getImageData(0, 0, SIZE, SIZE).data;

  let mass = 0, cx = 0, cy = 0;
  for (let i = 0; i < SIZE * SIZE; i++) {
    const v = boxed[i * 4] / 255;
    mass += v; cx += v * (i % SIZE); cy += v * Math.floor(i / SIZE);
  }
  const dx = Math.round((SIZE - 1) / 2 - cx / mass), dy = Math.round((SIZE - 1) / 2 - cy / mass);
  const pixels = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const sx = x - dx, sy = y - dy;
      if (sx >= 0 && sx < SIZE && sy >= 0 && sy < SIZE) pixels[y * SIZE + x] = boxed[(sy * SIZE + sx) * 4] / 255;
    }
  }
  if (preview) showDigit(preview, pixels);
  return pixels;
}

function showDigit(canvas: HTMLCanvasElement, pixels: Float32Array): void {
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(SIZE, SIZE);
  pixels.forEach((v, i) => {
    image.data.set([v * 255, v * 255, v * 255, 255], i * 4);
  });
  ctx.putImageData(image, 0, 0);
}
