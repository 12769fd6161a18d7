// The test PNG decoder: every row filter (0-4) undone exactly, RGB and RGBA, checked against images encoded here with known pixels.
import assert from "node:assert/strict";
import { decodePng, pixelAt } from "./png_pixels.ts";

/** Filters one row as a PNG encoder would (the inverse of what the decoder undoes). */
function filterRow(
  filter: number,
  row: Uint8Array,
  previous: Uint8Array,
  channels: number,
): Uint8Array {
  const out = new Uint8Array(row.length + 1);
  out[0] = filter;
  for (let i = 0; i < row.length; i++) {
    const left = i >= channels ? row[i - channels]! : 0;
    const up = previous[i]!;
    const upLeft = i >= channels ? previous[i - channels]! : 0;
    const p = left + up - upLeft;
    const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
    const paeth = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
    const predictor = [0, left, up, (left + up) >> 1, paeth][filter]!;
    out[i + 1] = (row[i]! - predictor) & 0xff;
  }
  return out;
}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes.slice()]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set([...type].map((c) => c.charCodeAt(0)), 4);
  out.set(data, 8);
  return out; // CRC left zero: the decoder does not check it
}

/** A PNG of `pixels` (row-major, `channels` bytes each), row y filtered with filters[y % 5], in two IDAT chunks. */
async function encodePng(
  width: number,
  height: number,
  channels: 3 | 4,
  pixels: Uint8Array,
): Promise<Uint8Array> {
  const stride = width * channels;
  const rows: Uint8Array[] = [];
  for (let y = 0; y < height; y++) {
    const previous = y === 0
      ? new Uint8Array(stride)
      : pixels.subarray((y - 1) * stride, y * stride);
    rows.push(filterRow(y % 5, pixels.subarray(y * stride, (y + 1) * stride), previous, channels));
  }
  const compressed = await deflate(new Uint8Array(rows.flatMap((row) => [...row])));
  const header = new Uint8Array(13);
  new DataView(header.buffer).setUint32(0, width);
  new DataView(header.buffer).setUint32(4, height);
  header.set([8, channels === 4 ? 6 : 2, 0, 0, 0], 8);
  const half = Math.floor(compressed.length / 2);
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", compressed.subarray(0, half)),
    chunk("IDAT", compressed.subarray(half)),
    chunk("IEND", new Uint8Array()),
  ];
  return new Uint8Array(parts.flatMap((part) => [...part]));
}

/** Pixels that make every filter's predictor matter: gradients plus pseudo-random noise. */
function pattern(width: number, height: number, channels: number): Uint8Array {
  const pixels = new Uint8Array(width * height * channels);
  let seed = 12345;
  for (let i = 0; i < pixels.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const x = Math.floor(i / channels) % width;
    const y = Math.floor(i / channels / width);
    pixels[i] = (x * 7 + y * 13 + (seed >> 20)) & 0xff;
  }
  return pixels;
}

Deno.test("decodePng() undoes filters 0-4 for RGB and RGBA images exactly", async () => {
  for (const channels of [3, 4] as const) {
    const [width, height] = [23, 17];
    const pixels = pattern(width, height, channels);
    const image = await decodePng(await encodePng(width, height, channels, pixels));
    assert.equal(image.width, width);
    assert.equal(image.height, height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * channels;
        const expected = [...pixels.subarray(i, i + 3), channels === 4 ? pixels[i + 3]! : 255];
        assert.deepEqual(pixelAt(image, x, y), expected, `${channels} channels, (${x}, ${y})`);
      }
    }
  }
});

Deno.test("decodePng() refuses what it does not read", async () => {
  await assert.rejects(decodePng(new Uint8Array([1, 2, 3])), /not a PNG/);
  const png = await encodePng(2, 2, 3, new Uint8Array(12));
  png[8 + 8 + 8] = 16; // IHDR bit depth
  await assert.rejects(decodePng(png), /unsupported PNG: bit depth 16/);
});
