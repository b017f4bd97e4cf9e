/**
 * `/sdk/ref.js`: the storefront script a brand adds to its Shopify theme. It keeps the
 * tracked-link ref from the landing page to the cart: reads `tsunagu_ref` from the URL,
 * remembers it in a first-party cookie (30 days, the attribution window) and writes it as
 * the cart attribute `tsunagu_ref` via Shopify's `/cart/update.js`, so it reaches the order's
 * `note_attributes`. `data-cart-update` on the script tag overrides the endpoint (demo shop).
 */
import { Hono } from 'hono';

export const REF_SDK_SOURCE = `(function () {
  var NAME = 'tsunagu_ref';
  var script = document.currentScript;
  var endpoint = (script && script.getAttribute('data-cart-update')) || '/cart/update.js';
  var days = Number((script && script.getAttribute('data-days')) || 30);
  function fromUrl() {
    try { return new URL(location.href).searchParams.get(NAME); } catch (e) { return null; }
  }
  function fromCookie() {
    var m = document.cookie.match(/(?:^|; )tsunagu_ref=([0-9A-Za-z]{10,64})/);
    return m ? m[1] : null;
  }
  var ref = fromUrl();
  if (ref && !/^[0-9A-Za-z]{10,64}$/.test(ref)) ref = null;
  if (ref) {
    document.cookie = NAME + '=' + ref + '; path=/; max-age=' + days * 86400 + '; samesite=lax' + (location.protocol === 'https:' ? '; secure' : '');
    try { localStorage.setItem(NAME, ref); } catch (e) {}
  } else {
    ref = fromCookie();
  }
  if (!ref) return;
  var body = { attributes: {} };
  body.attributes[NAME] = ref;
  window.tsunaguRefReady = fetch(endpoint, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body)
  }).catch(function () {});
})();
`;

export function refSdkRoutes() {
	return new Hono().get('/ref.js', (c) => {
		c.header('content-type', 'text/javascript; charset=utf-8');
		c.header('cache-control', 'public, max-age=3600');
		c.header('access-control-allow-origin', '*');
		// Loaded cross-origin by storefronts
		c.header('cross-origin-resource-policy', 'cross-origin');
		return c.body(REF_SDK_SOURCE);
	});
}
