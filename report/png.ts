// The timeline chart as PNG without a browser: resvg rasterises the SVG with DejaVu Sans from the
// dejavu-fonts-ttf package and never looks at the system's fonts, so the text renders the same
// on a server or in a container that has no font installed.
import { createRequire } from 'node:module';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';

const require = createRequire(import.meta.url);
export const FONT_FILE = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
const FAMILY = 'DejaVu Sans';

/** `scale` 2 gives a sharp picture on a high-density screen or in a ticket. */
export function resvgOptions(scale = 2): ResvgRenderOptions {
  return {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { fontFiles: [FONT_FILE], loadSystemFonts: false, defaultFontFamily: FAMILY, sansSerifFamily: FAMILY, serifFamily: FAMILY, monospaceFamily: FAMILY },
  };
}

export function svgToPng(svg: string, scale = 2): Buffer {
  return new Resvg(svg, resvgOptions(scale)).render().asPng();
}
