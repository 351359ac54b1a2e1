// The edit page's mask painter: paint over the parts of the picture to change. Strokes go on a canvas laid over the
// image (mouse, pen and touch through pointer events); the mask sent to the API is a PNG of the image's own size,
// opaque where the picture is kept and transparent where it was painted.
window.imagegenMask = (() => {
  let canvas = null;
  let context = null;
  let brush = 40;
  let erasing = false;
  let drawing = false;
  let last = null;
  const history = [];

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return { x: (event.clientX - box.left) * canvas.width / box.width, y: (event.clientY - box.top) * canvas.height / box.height };
  }

  function stroke(from, to) {
    context.globalCompositeOperation = erasing ? 'destination-out' : 'source-over';
    context.strokeStyle = 'rgba(255, 64, 128, 0.55)';
    context.lineWidth = brush * canvas.width / canvas.getBoundingClientRect().width;
    context.lineCap = 'round';
    context.lineJoin = 'round';
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
  }

  function remember() {
    history.push(context.getImageData(0, 0, canvas.width, canvas.height));
    if (history.length > 30) history.shift();
  }

  return {
    attach(canvasId, width, height) {
      canvas = document.getElementById(canvasId);
      canvas.width = width;
      canvas.height = height;
      context = canvas.getContext('2d');
      history.length = 0;
      canvas.style.touchAction = 'none';
      canvas.onpointerdown = (event) => {
        remember();
        drawing = true;
        last = point(event);
        stroke(last, last);
        canvas.setPointerCapture(event.pointerId);
      };
      canvas.onpointermove = (event) => {
        if (!drawing) return;
        const next = point(event);
        stroke(last, next);
        last = next;
      };
      canvas.onpointerup = canvas.onpointercancel = () => { drawing = false; };
      // Strokes count from here on; before this they went nowhere.
      canvas.dataset.ready = 'true';
    },
    setBrush(size) { brush = size; },
    setErase(on) { erasing = on; },
    clear() { remember(); context.clearRect(0, 0, canvas.width, canvas.height); },
    undo() { if (history.length > 0) context.putImageData(history.pop(), 0, 0); },
    // True when anything is painted.
    painted() {
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) return true;
      return false;
    },
    // The mask as base64 PNG: white and opaque where kept, transparent where painted.
    export() {
      const mask = document.createElement('canvas');
      mask.width = canvas.width;
      mask.height = canvas.height;
      const m = mask.getContext('2d');
      m.fillStyle = '#ffffff';
      m.fillRect(0, 0, mask.width, mask.height);
      m.globalCompositeOperation = 'destination-out';
      const paint = context.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 3; i < paint.data.length; i += 4) if (paint.data[i] > 0) paint.data[i] = 255;
      const solid = document.createElement('canvas');
      solid.width = canvas.width;
      solid.height = canvas.height;
      solid.getContext('2d').putImageData(paint, 0, 0);
      m.drawImage(solid, 0, 0);
      return mask.toDataURL('image/png').split(',')[1];
    },
  };
})();
