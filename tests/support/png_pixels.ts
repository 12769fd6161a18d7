// Test-only PNG decoder: 8-bit RGB and RGBA, non-interlaced (what rsvg-convert writes), to look at the pixels of a rendered plot.
//
// Reads IHDR and the IDAT chunks, inflates them with DecompressionStream("deflate") (zlib) and
// undoes the five row filters (none, sub, up, average, Paeth).

/** A decoded image: `rgba` holds width x height pixels, four bytes each, row by row. */
export interface PngImage {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Decodes a PNG file; throws on anything but 8-bit RGB/RGBA without interlacing. */
export async function decodePng(bytes: Uint8Array): Promise<PngImage> {
  if (bytes.length < 8 || signature.some((b, i) => bytes[i] !== b)) throw new Error("not a PNG");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  for (let offset = 8; offset + 8 <= bytes.length;) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      const [bitDepth, colourType, , , interlace] = data.subarray(8, 13);
      if (bitDepth !== 8 || (colourType !== 2 && colourType !== 6) || interlace !== 0) {
        throw new Error(
          `unsupported PNG: bit depth ${bitDepth}, colour type ${colourType}, interlace ${interlace}`,
        );
      }
      channels = colourType === 6 ? 4 : 3;
    } else if (type === "IDAT") {
      idat.push(data);
    } else if (type === "IEND") {
      break;
    }
    offset += 12 + length;
  }
  if (channels === 0) throw new Error("PNG without IHDR");
  const inflated = new Uint8Array(
    await new Response(
      new Blob(idat.map((part) => part.slice())).stream().pipeThrough(
        new DecompressionStream("deflate"),
      ),
    )
      .arrayBuffer(),
  );
  const stride = width * channels;
  if (inflated.length < height * (stride + 1)) throw new Error("PNG image data too short");
  const raw = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = inflated[y * (stride + 1)]!;
    const line = inflated.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = raw.subarray(y * stride, (y + 1) * stride);
    const previous = y === 0 ? new Uint8Array(stride) : raw.subarray((y - 1) * stride, y * stride);
    for (let i = 0; i < stride; i++) {
      const left = i >= channels ? out[i - channels]! : 0;
      const up = previous[i]!;
      const upLeft = i >= channels ? previous[i - channels]! : 0;
      const x = line[i]!;
      switch (filter) {
        case 0:
          out[i] = x;
          break;
        case 1:
          out[i] = x + left;
          break;
        case 2:
          out[i] = x + up;
          break;
        case 3:
          out[i] = x + ((left + up) >> 1);
          break;
        case 4:
          out[i] = x + paeth(left, up, upLeft);
          break;
        default:
          throw new Error(`bad PNG filter ${filter} on row ${y}`);
      }
    }
  }
  if (channels === 4) return { width, height, rgba: raw };
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    rgba.set(raw.subarray(p * 3, p * 3 + 3), p * 4);
    rgba[p * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** The pixel at (x, y) as [r, g, b, a]. */
export function pixelAt(image: PngImage, x: number, y: number): [number, number, number, number] {
  const i = (y * image.width + x) * 4;
  return [image.rgba[i]!, image.rgba[i + 1]!, image.rgba[i + 2]!, image.rgba[i + 3]!];
}
