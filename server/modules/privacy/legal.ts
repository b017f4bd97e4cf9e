/**
 * The member card's terms and privacy policy: Markdown files in the repository's `legal/`
 * folder (a brand replaces them), each with a small front matter (`version`, `title`). The
 * version a member agreed to is what the consent ledger records. Rendered here to HTML with a
 * deliberately small Markdown subset (headings, paragraphs, lists, bold, inline code), escaping
 * everything else, so a brand's text cannot inject markup.
 */
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export type LegalDocName = 'terms' | 'privacy';
export const LEGAL_DOCS: readonly LegalDocName[] = ['terms', 'privacy'];

export interface LegalDoc {
	name: LegalDocName;
	version: string;
	title: string;
	html: string;
}

const LEGAL_DIR = fileURLToPath(new URL('../../../legal/', import.meta.url));
const cache = new Map<string, { mtime: number; doc: LegalDoc }>();

export async function loadLegalDoc(name: LegalDocName, dir = LEGAL_DIR): Promise<LegalDoc> {
	const path = `${dir}${name}.md`;
	const mtime = (await stat(path)).mtimeMs;
	const hit = cache.get(path);
	if (hit && hit.mtime === mtime) return hit.doc;
	const doc = parseLegalDoc(name, await readFile(path, 'utf8'));
	cache.set(path, { mtime, doc });
	return doc;
}

/** The current terms version (recorded with every consent decision). */
export async function currentTermsVersion(): Promise<string> {
	return (await loadLegalDoc('terms')).version;
}

export function parseLegalDoc(name: LegalDocName, source: string): LegalDoc {
	const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(source);
	const meta: Record<string, string> = {};
	for (const line of (match?.[1] ?? '').split(/\r?\n/)) {
		const kv = /^(\w+):\s*(.*)$/.exec(line.trim());
		if (kv) meta[kv[1]] = kv[2].trim();
	}
	const body = match ? source.slice(match[0].length) : source;
	return { name, version: meta.version || 'unversioned', title: meta.title || name, html: renderMarkdown(body) };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

function inline(text: string): string {
	return escapeHtml(text)
		.replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
		.replace(/`([^`]+)`/g, '<code>$1</code>');
}

export function renderMarkdown(md: string): string {
	const out: string[] = [];
	let paragraph: string[] = [];
	let list: string[] | null = null;
	const flush = () => {
		if (paragraph.length) out.push(`<p>${inline(paragraph.join(' '))}</p>`);
		paragraph = [];
		if (list) out.push(`<ul>${list.map((li) => `<li>${inline(li)}</li>`).join('')}</ul>`);
		list = null;
	};
	for (const raw of md.split(/\r?\n/)) {
		const line = raw.trim();
		const heading = /^(#{1,3})\s+(.*)$/.exec(line);
		const item = /^[-*]\s+(.*)$/.exec(line);
		if (!line) flush();
		else if (heading) {
			flush();
			// the page has its own h1 (the title), so a document's # is an h2
			const level = Math.min(heading[1].length + 1, 4);
			out.push(`<h${level}>${inline(heading[2])}</h${level}>`);
		} else if (item) {
			if (paragraph.length) flush();
			(list ??= []).push(item[1]);
		} else {
			if (list) flush();
			paragraph.push(line);
		}
	}
	flush();
	return out.join('\n');
}
