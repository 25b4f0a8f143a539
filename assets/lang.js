// Remembered language: a link without ?lang= opens in the language the reader chose last time.
(function () {
  try {
    const url = new URL(window.location.href);
    const saved = window.localStorage.getItem('im-lang');
    if (!url.searchParams.has('lang') && saved === 'en') {
      url.searchParams.set('lang', saved);
      window.location.replace(url.toString());
    }
  } catch (e) { /* storage disabled: fall back to the default language */ }
})();
