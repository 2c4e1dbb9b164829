import t from 'tap';
import { Resvg } from '@resvg/resvg-js';
import { resvgOptions, svgToPng } from '../../report/png.js';

const TEXT_ONLY = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="4" y="28" font-family="sans-serif" font-size="20">pod-b 21:47</text></svg>';

/** Pixels darker than mid-grey in an RGBA buffer. */
function darkPixels(rgba: Buffer): number {
  let dark = 0;
  for (let i = 0; i < rgba.length; i += 4) if (rgba[i]! + rgba[i + 1]! + rgba[i + 2]! < 384) dark++;
  return dark;
}

t.test('svgToPng() writes a PNG twice the size of the SVG', async (t) => {
  const png = svgToPng(TEXT_ONLY);
  t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  t.same([png.readUInt32BE(16), png.readUInt32BE(20)], [400, 80]);
});

t.test('the text is drawn with the shipped font alone, the system fonts never loaded', async (t) => {
  const withFont = new Resvg(TEXT_ONLY, resvgOptions(1)).render().pixels;
  t.ok(darkPixels(withFont) > 100, `${darkPixels(withFont)} dark pixels of text`);
  const options = resvgOptions(1);
  const withoutFont = new Resvg(TEXT_ONLY, { ...options, font: { ...options.font, fontFiles: [] } }).render().pixels;
  t.equal(darkPixels(withoutFont), 0, 'without the shipped font (and without the system fonts) there is no text: the font is what draws it');
});
