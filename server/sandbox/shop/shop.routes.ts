/**
 * The demo EC shop (demo/test only): a stand-in for the brand's Shopify store so the whole loop
 * runs on one machine. Product pages for the demo catalog, a cookie cart with Shopify-style
 * cart attributes (`/shop/cart/update.js`, which /sdk/ref.js calls), and a checkout that sends
 * a Shopify-format, HMAC-signed `orders/create` webhook carrying the ref to /webhooks/shopify.
 */
import { randomInt } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { AppDeps } from '../../http/context.ts';
import { buildOrderPayload, shopifyHeaders, shopifyJson } from '../shopify.ts';

interface Cart {
	items: Array<{ sku: string; qty: number }>;
	attributes: Record<string, string>;
	/** The first page of the visit, like Shopify's `landing_site`. */
	landing: string | null;
}

const COOKIE = 'demo_shop_cart';
const EMPTY: Cart = { items: [], attributes: {}, landing: null };

function readCart(c: Context): Cart {
	const value = getCookie(c, COOKIE);
	if (!value) return structuredClone(EMPTY);
	try {
		const cart = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Cart;
		return { items: Array.isArray(cart.items) ? cart.items.slice(0, 50) : [], attributes: cart.attributes ?? {}, landing: cart.landing ?? null };
	} catch {
		return structuredClone(EMPTY);
	}
}

function writeCart(c: Context, cart: Cart): void {
	setCookie(c, COOKIE, Buffer.from(JSON.stringify(cart)).toString('base64url'), { path: '/shop', httpOnly: true, sameSite: 'Lax', maxAge: 30 * 86400 });
}

const page = (title: string, body: unknown) => html`<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} — KASANE オンラインストア (デモ)</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#222;line-height:1.6}
header{background:#222;color:#fff;padding:.75rem 1rem}header a{color:#fff;text-decoration:none;font-weight:bold}
main{max-width:48rem;margin:0 auto;padding:1rem}
img{max-width:100%;height:auto;background:#eee}
button,.btn{display:inline-block;min-height:44px;min-width:44px;padding:0 1.25rem;font:inherit;font-weight:bold;background:#222;color:#fff;border:0;border-radius:6px;cursor:pointer;text-decoration:none;line-height:44px}
label{display:block;margin-top:.75rem}input{min-height:44px;font:inherit;width:100%;box-sizing:border-box;padding:0 .5rem}
table{width:100%;border-collapse:collapse}td,th{padding:.5rem;border-bottom:1px solid #ddd;text-align:left}
.note{color:#555;font-size:.9rem}
</style>
<script src="/sdk/ref.js" data-cart-update="/shop/cart/update.js"></script>
</head><body><header><a href="/shop">KASANE オンラインストア</a> <small>デモ</small> · <a href="/shop/cart">カート</a></header><main>${body}</main></body></html>`;

const yen = (n: number) => `¥${n.toLocaleString('ja-JP')}`;

export function shopRoutes(deps: AppDeps, deliver: (req: Request) => Response | Promise<Response>) {
	const app = new Hono();
	const product = (sku: string) =>
		deps.db.selectFrom('products').select(['id', 'sku', 'name', 'price_yen', 'image_url', 'ec_product_id', 'category']).where('sku', '=', sku).where('active', '=', true).executeTakeFirst();

	// Remember where the visit landed (Shopify's landing_site), query included.
	app.use('*', async (c, next) => {
		const cart = readCart(c);
		if (!cart.landing && c.req.method === 'GET') {
			const url = new URL(c.req.url);
			writeCart(c, { ...cart, landing: url.pathname + url.search });
		}
		await next();
	});

	app.get('/', async (c) => {
		const rows = await deps.db.selectFrom('products').select(['sku', 'name', 'price_yen']).where('active', '=', true).orderBy('sku').limit(40).execute();
		return c.html(page('商品一覧', html`<h1>商品一覧</h1><ul>${rows.map((p) => html`<li><a href="/shop/products/${p.sku}">${p.name}</a> ${yen(p.price_yen)}</li>`)}</ul>`));
	});

	app.get('/products/:sku', async (c) => {
		const p = await product(c.req.param('sku'));
		if (!p) return c.html(page('見つかりません', html`<h1>商品が見つかりません</h1><p><a href="/shop">商品一覧へ</a></p>`), 404);
		return c.html(
			page(
				p.name,
				html`<h1>${p.name}</h1>
				${p.image_url ? html`<img src="${p.image_url}" alt="${p.name}" width="480" height="480">` : ''}
				<p class="price" data-testid="price">${yen(p.price_yen)}</p>
				<p class="note">${p.category} · ${p.sku}</p>
				<form method="post" action="/shop/cart/add"><input type="hidden" name="sku" value="${p.sku}"><button type="submit">カートに入れる</button></form>`
			)
		);
	});

	// Shopify's AJAX cart API shape: { attributes: { name: value } } merges into the cart.
	app.post('/cart/update.js', async (c) => {
		const body = ((await c.req.json().catch(() => null)) ?? {}) as { attributes?: Record<string, unknown> };
		const cart = readCart(c);
		for (const [k, v] of Object.entries(body.attributes ?? {})) {
			if (typeof v === 'string' && k.length <= 64 && v.length <= 256) cart.attributes[k] = v;
		}
		writeCart(c, cart);
		return c.json({ attributes: cart.attributes, item_count: cart.items.reduce((s, i) => s + i.qty, 0) });
	});

	app.post('/cart/add', async (c) => {
		const form = await c.req.parseBody();
		const sku = typeof form.sku === 'string' ? form.sku : '';
		if (!(await product(sku))) return c.text('unknown product', 400);
		const cart = readCart(c);
		const line = cart.items.find((i) => i.sku === sku);
		if (line) line.qty += 1;
		else cart.items.push({ sku, qty: 1 });
		writeCart(c, cart);
		return c.redirect('/shop/cart', 303);
	});

	app.get('/cart', async (c) => {
		const cart = readCart(c);
		const lines = await cartLines(cart);
		const total = lines.reduce((s, l) => s + l.price * l.qty, 0);
		return c.html(
			page(
				'カート',
				html`<h1>カート</h1>
				${lines.length === 0
					? html`<p>カートは空です。</p>`
					: html`<table><thead><tr><th>商品</th><th>数量</th><th>小計</th></tr></thead><tbody>
						${lines.map((l) => html`<tr><td>${l.name}</td><td>${l.qty}</td><td>${yen(l.price * l.qty)}</td></tr>`)}
						</tbody></table>
						<p>合計 <strong data-testid="total">${yen(total)}</strong></p>
						<form method="post" action="/shop/checkout">
							<h2>ご購入手続き</h2>
							<label for="email">メールアドレス</label><input id="email" name="email" type="email" autocomplete="email">
							<label for="family">お名前 (姓)</label><input id="family" name="family" autocomplete="family-name">
							<label for="given">お名前 (名)</label><input id="given" name="given" autocomplete="given-name">
							<p><button type="submit">注文を確定する</button></p>
						</form>`}`
			)
		);
	});

	app.post('/checkout', async (c) => {
		const cart = readCart(c);
		const lines = await cartLines(cart);
		if (lines.length === 0) return c.redirect('/shop/cart', 303);
		const form = await c.req.parseBody();
		const str = (k: string) => (typeof form[k] === 'string' && form[k] ? (form[k] as string).trim() : undefined);
		const id = String(7_500_000_000_000_000_000n + BigInt(Date.now()) * 1000n + BigInt(randomInt(1000)));
		const now = new Date().toISOString();
		const email = str('email');
		const payload = buildOrderPayload({
			id,
			name: `#D${id.slice(-6)}`,
			email: email ?? null,
			customer: email ? { email, first_name: str('given'), last_name: str('family') } : null,
			createdAt: now,
			updatedAt: now,
			landingSite: cart.landing,
			noteAttributes: Object.entries(cart.attributes).map(([name, value]) => ({ name, value })),
			lines: lines.map((l) => ({ sku: l.sku, title: l.name, quantity: l.qty, price: l.price, product_id: l.ecProductId ?? undefined }))
		});
		const body = shopifyJson(payload);
		const res = await deliver(
			new Request('http://shop.internal/webhooks/shopify', {
				method: 'POST',
				headers: shopifyHeaders(body, deps.config.shopify.webhookSecret, 'orders/create', crypto.randomUUID()),
				body
			})
		);
		if (!res.ok) return c.html(page('エラー', html`<h1>注文を送信できませんでした</h1><p>${res.status}</p>`), 502);
		writeCart(c, { items: [], attributes: cart.attributes, landing: cart.landing });
		return c.redirect(`/shop/thanks/${id}`, 303);
	});

	app.get('/thanks/:id', (c) =>
		c.html(page('ご注文ありがとうございました', html`<h1>ご注文ありがとうございました</h1><p>注文番号 <strong data-testid="order-id">${c.req.param('id')}</strong></p><p><a href="/shop">買い物を続ける</a></p>`))
	);

	// Demo/test only: which staff member the shop's order was credited to (the e2e checks it).
	app.get('/api/attribution/:orderId', async (c) => {
		const row = await deps.db
			.selectFrom('attributions as a')
			.innerJoin('staff as s', 's.id', 'a.staff_id')
			.select(['s.staff_code', 'a.rule', 'a.link_code', 'a.status', 'a.gross_yen', 'a.refunded_yen'])
			.where('a.platform', '=', 'shopify')
			.where('a.ec_order_id', '=', c.req.param('orderId'))
			.executeTakeFirst();
		if (!row) return c.json({ error: { code: 'not_found', message: 'Not attributed (yet)' } }, 404);
		return c.json({ staffCode: row.staff_code, rule: row.rule, linkCode: row.link_code, status: row.status, grossYen: row.gross_yen, refundedYen: row.refunded_yen });
	});

	async function cartLines(cart: Cart) {
		const skus = cart.items.map((i) => i.sku);
		if (skus.length === 0) return [];
		const rows = await deps.db.selectFrom('products').select(['sku', 'name', 'price_yen', 'ec_product_id']).where('sku', 'in', skus).execute();
		const bySku = new Map(rows.map((r) => [r.sku, r]));
		return cart.items.flatMap((i) => {
			const p = bySku.get(i.sku);
			return p ? [{ sku: i.sku, qty: i.qty, name: p.name, price: p.price_yen, ecProductId: p.ec_product_id }] : [];
		});
	}

	return app;
}


