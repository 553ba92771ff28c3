/* global document */
// The access token's expiry countdown. Without JavaScript the page still shows the time at render.
(function () {
  'use strict';
  function tick() {
    var el = document.getElementById('expiry');
    if (!el) return;
    var left = Number(el.getAttribute('data-expires')) - Math.floor(Date.now() / 1000);
    el.textContent = left > 0 ? 'in ' + Math.floor(left / 60) + ' min ' + (left % 60) + ' s' : 'expired';
  }
  document.addEventListener('DOMContentLoaded', function () {
    tick();
    setInterval(tick, 1000);
  });
})();
