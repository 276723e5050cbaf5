// The drill report in a real browser: Debian's chromium opens the HTML file as a person would, from disk. It
// must render without an error, fetch nothing, and show its charts. Without chromium this fails, with the fix.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDrillReportFiles } from '../../activities/drill-report';
import { renderInBrowser } from '../helpers/browser';
import { drillFixture } from '../helpers/drill-fixture';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

test('chromium renders the drill report from disk: no error, no request, its charts visible, a full-page PNG', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'drill-browser-'));
  try {
    const files = writeDrillReportFiles(dir, drillFixture());
    const rendered = await renderInBrowser(files.html, join(dir, 'report.png'));
    assert.deepEqual(rendered.errors, [], 'console and page errors');
    assert.deepEqual(rendered.requests, [], 'requests that would leave the machine');
    assert.equal(rendered.present.timeline, true, '#timeline visible');
    assert.equal(rendered.present.objectives, true, '#objectives visible');
    assert.equal(rendered.present['write-stream'], true, '#write-stream visible');
    assert.equal(rendered.present.trend, true, '#trend visible');
    assert.ok(existsSync(rendered.png), rendered.png);
    const png = readFileSync(rendered.png);
    assert.deepEqual(png.subarray(0, 8), PNG_MAGIC, 'PNG signature');
    assert.equal(png.length, rendered.bytes);
    assert.ok(png.length > 5 * 1024, `PNG of ${png.length} bytes`);
    // A full page, not the 900 px viewport: the IHDR height (bytes 20..23) is the page's.
    assert.equal(png.readUInt32BE(16), 1200, 'PNG width');
    assert.ok(png.readUInt32BE(20) > 2000, `PNG height ${png.readUInt32BE(20)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the browser check sees what it must catch: a script error, a console error, a request out, a missing part', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'drill-browser-'));
  try {
    const html = join(dir, 'bad.html');
    // 192.0.2.1 is TEST-NET-1, never routed; the helper refuses the request before it leaves anyway.
    writeFileSync(
      html,
      '<!DOCTYPE html><html><body><table id="objectives"><tr><td>x</td></tr></table><div id="timeline" style="display:none">t</div>' +
        '<img src="http://192.0.2.1/pixel.png"><script>console.error("drawn wrong"); undefinedFunction();</script></body></html>',
    );
    const rendered = await renderInBrowser(html, join(dir, 'bad.png'));
    assert.ok(
      rendered.errors.some((error) => error.includes('drawn wrong')),
      rendered.errors.join('\n'),
    );
    assert.ok(
      rendered.errors.some((error) => error.includes('undefinedFunction is not defined')),
      rendered.errors.join('\n'),
    );
    assert.deepEqual(rendered.requests, ['http://192.0.2.1/pixel.png']);
    assert.equal(rendered.present.objectives, true);
    assert.equal(rendered.present.timeline, false, 'display:none is not visible');
    assert.equal(rendered.present.trend, false, 'absent');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
