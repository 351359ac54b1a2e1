// Image links are signed and expire (an hour by default). When one fails to load, for instance on a page left open
// past its expiry, ask the web for fresh links for the same image and width and swap them in: no page reload.
(() => {
  const retryAfterMs = 60_000;

  document.addEventListener('error', async (event) => {
    const img = event.target;
    if (!(img instanceof HTMLImageElement) || !img.dataset.imageId) {
      return;
    }

    // One refresh per image per minute: an image that is really gone must not loop.
    const last = Number(img.dataset.refreshedAt || 0);
    if (Date.now() - last < retryAfterMs) {
      img.dataset.linkState = 'unavailable';
      return;
    }

    img.dataset.refreshedAt = String(Date.now());
    img.dataset.linkState = 'refreshing';
    try {
      const width = encodeURIComponent(img.dataset.w || '0');
      const response = await fetch(`/image-links/${encodeURIComponent(img.dataset.imageId)}?w=${width}`, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (!response.ok) {
        img.dataset.linkState = response.status === 410 ? 'deleted' : 'unavailable';
        return;
      }

      const links = await response.json();
      img.srcset = links.srcset;
      img.src = links.src;
      img.dataset.linkState = 'refreshed';
    } catch {
      img.dataset.linkState = 'unavailable';
    }
  }, true);
})();
