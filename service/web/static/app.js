'use strict';
// Every page: tap a photo to see it large; photos chosen in a form are made
// small on the phone before they are sent (a camera's 12–50 megapixels are
// often over the server's 5 MB, and slow on a poor network).
(function () {
  const zoom = document.getElementById('zoom');
  if (zoom) {
    const img = zoom.querySelector('img');
    const close = () => { zoom.hidden = true; img.removeAttribute('src'); };
    document.addEventListener('click', e => {
      const a = e.target.closest && e.target.closest('a.zoomable');
      if (!a) return;
      e.preventDefault();
      img.src = a.href;
      zoom.hidden = false;
      zoom.querySelector('button').focus();
    });
    zoom.addEventListener('click', close);
    document.addEventListener('keydown', e => { if (e.key === 'Escape' && !zoom.hidden) close(); });
  }

  const SIDE = 1600, BIG = 1 << 20;

  // decode reads an image upright (EXIF orientation applied), or null.
  async function decode(blob) {
    if (window.createImageBitmap) {
      try {
        const b = await createImageBitmap(blob, {imageOrientation: 'from-image'});
        return {src: b, w: b.width, h: b.height, done: () => b.close()};
      } catch (e) { /* fall back to an <img> */ }
    }
    const url = URL.createObjectURL(blob), img = new Image();
    try {
      await new Promise((ok, fail) => { img.onload = ok; img.onerror = fail; img.src = url; });
      if (!img.naturalWidth || !img.naturalHeight) throw new Error('empty image');
      return {src: img, w: img.naturalWidth, h: img.naturalHeight, done: () => URL.revokeObjectURL(url)};
    } catch (e) { URL.revokeObjectURL(url); return null; }
  }

  // shrink returns {blob, name}: the photo, or when it is larger than SIDE px
  // or BIG bytes, a JPEG of at most SIDE px if that comes out smaller. What
  // the browser cannot read stays as it is, for the server to judge.
  async function shrink(ph, n) {
    const im = await decode(ph.blob);
    if (!im) return ph;
    let out = null;
    try {
      const long = Math.max(im.w, im.h);
      if (long > SIDE || ph.blob.size > BIG) {
        const k = Math.min(1, SIDE / long), c = document.createElement('canvas');
        c.width = Math.max(1, Math.round(im.w * k)); c.height = Math.max(1, Math.round(im.h * k));
        const g = c.getContext('2d');
        g.fillStyle = '#fff'; g.fillRect(0, 0, c.width, c.height); // JPEG has no transparency
        g.imageSmoothingQuality = 'high';
        g.drawImage(im.src, 0, 0, c.width, c.height);
        out = await new Promise(ok => c.toBlob(ok, 'image/jpeg', 0.8));
        c.width = c.height = 0; // frees the canvas now
      }
    } catch (e) { out = null; } finally { im.done(); }
    return out && out.type === 'image/jpeg' && out.size < ph.blob.size ? {blob: out, name: 'photo-' + n + '.jpg'} : ph;
  }
  window.menqianShrink = shrink;

  // A form's photo picker marked data-shrink: the chosen files are replaced
  // by their small copies before the form is sent.
  for (const input of document.querySelectorAll('input[type=file][data-shrink]')) {
    input.addEventListener('change', async () => {
      if (!window.DataTransfer || !input.files.length) return;
      const form = input.form, btn = form && form.querySelector('button[type=submit]');
      if (btn) btn.disabled = true;
      try {
        const dt = new DataTransfer();
        let i = 0;
        for (const f of input.files) {
          const ph = await shrink({blob: f, name: f.name}, ++i);
          dt.items.add(ph.blob === f ? f : new File([ph.blob], ph.name, {type: 'image/jpeg'}));
        }
        input.files = dt.files;
      } catch (e) { /* send the originals */ } finally { if (btn) btn.disabled = false; }
    });
  }
})();
