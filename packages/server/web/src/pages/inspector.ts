/**
 * Token inspector: paste a token, see its header and claims, the signature
 * checked against the service's JWKS or a JWKS URL, the expiry counting
 * down, and every problem in words. The token never leaves the page: only
 * the JWKS is fetched.
 */
import { field, h, nextId, replace } from '../dom.js';
import { claimFindings, type Decoded, decodeToken, type Finding, MalformedToken } from '../inspect/decode.js';
import { checkSignature, fetchJwks } from '../inspect/verify.js';
import { countdown, relative, spanWords, when } from '../time.js';

const TIME_CLAIMS = new Set(['exp', 'nbf', 'iat', 'auth_time']);

export function inspectorPage(main: HTMLElement): () => void {
  const input = h('textarea', {
    name: 'token',
    rows: 5,
    spellcheck: 'false',
    autocomplete: 'off',
    class: 'mono',
    placeholder: 'eyJhbGciOi…',
  });
  const serviceId = nextId('src');
  const urlId = nextId('src');
  const useService = h('input', {
    type: 'radio',
    name: 'keysource',
    id: serviceId,
    value: 'service',
    checked: true,
  });
  const useUrl = h('input', { type: 'radio', name: 'keysource', id: urlId, value: 'url' });
  const url = h('input', {
    type: 'url',
    name: 'jwks',
    placeholder: 'https://issuer.example/.well-known/jwks.json',
    disabled: true,
  });
  const urlField = field('JWKS URL', url);
  const inspect = h('button', { type: 'submit', class: 'primary' }, 'Inspect');
  const result = h('div', { class: 'inspector-result', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'card', 'aria-label': 'Token to inspect' },
    field(
      'Token',
      input,
      'Any JWT: an access or refresh token, or one from another issuer. It stays in this page.',
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Check the signature against'),
      h(
        'div',
        { class: 'check' },
        useService,
        h('label', { for: serviceId }, "This service's keys (its JWKS)"),
      ),
      h('div', { class: 'check' }, useUrl, h('label', { for: urlId }, 'A JWKS URL')),
      urlField,
    ),
    inspect,
  );
  const syncSource = () => {
    url.disabled = !useUrl.checked;
    url.required = useUrl.checked;
  };
  useService.addEventListener('change', syncSource);
  useUrl.addEventListener('change', syncSource);

  let timer: number | undefined;
  let run = 0;

  const show = async () => {
    run += 1;
    const mine = run;
    window.clearInterval(timer);
    let decoded: Decoded;
    try {
      decoded = decodeToken(input.value);
    } catch (error) {
      const text = error instanceof MalformedToken ? error.message : String(error);
      replace(result, findingList([{ level: 'error', text }]));
      return;
    }
    const now = () => Date.now() / 1000;
    const findings = claimFindings(decoded, now());
    const signature = h('li', { class: 'finding info' }, 'Checking the signature…');
    const clock = h('p', { class: 'countdown', 'data-testid': 'countdown' });
    const tick = () => {
      const exp = decoded.payload.exp;
      if (typeof exp !== 'number') {
        clock.textContent = 'Never expires';
        return;
      }
      const left = exp - now();
      clock.textContent = left > 0 ? `Expires in ${countdown(left)}` : `Expired ${spanWords(-left)} ago`;
      clock.dataset.expired = String(left <= 0);
    };
    tick();
    timer = window.setInterval(tick, 1000);
    const list = findingList(findings);
    list.prepend(signature);
    replace(
      result,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'verdict-title' },
        h('h2', { id: 'verdict-title' }, 'Verdict'),
        clock,
        list,
      ),
      h(
        'div',
        { class: 'split' },
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'header-title' },
          h('h2', { id: 'header-title' }, 'Header'),
          json(decoded.header),
        ),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'claims-title' },
          h('h2', { id: 'claims-title' }, 'Claims'),
          claimsTable(decoded.payload),
          json(decoded.payload),
        ),
      ),
    );
    let verdict: Finding;
    try {
      const source = useUrl.checked ? url.value.trim() : '/.well-known/jwks.json';
      if (source === '') throw new Error('Enter the JWKS URL.');
      const keys = await fetchJwks(source);
      verdict = await checkSignature(decoded, keys, useUrl.checked ? source : "this service's JWKS");
    } catch (error) {
      verdict = { level: 'error', text: error instanceof Error ? error.message : String(error) };
    }
    if (mine !== run) return;
    signature.className = `finding ${verdict.level}`;
    signature.textContent = verdict.text;
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void show();
  });
  input.addEventListener('input', () => {
    if (input.value.trim() !== '') void show();
  });
  main.append(
    h('p', { class: 'lead' }, 'Decode a JWT, check its signature and see what is wrong with it, in words.'),
    form,
    result,
  );
  return () => window.clearInterval(timer);
}

function findingList(findings: Finding[]): HTMLElement {
  const items =
    findings.length === 0 ? [{ level: 'ok' as const, text: 'The claims are in date.' }] : findings;
  return h(
    'ul',
    { class: 'findings', 'data-testid': 'findings' },
    items.map((f) =>
      h('li', { class: `finding ${f.level}` }, h('span', { class: 'sr-only' }, `${f.level}: `), f.text),
    ),
  );
}

function json(value: unknown): HTMLElement {
  return h('pre', { class: 'json', tabindex: '0' }, JSON.stringify(value, null, 2));
}

function claimsTable(payload: Record<string, unknown>): HTMLElement {
  const rows = Object.entries(payload).filter(([k, v]) => TIME_CLAIMS.has(k) && typeof v === 'number');
  if (rows.length === 0) return h('span', {});
  return h(
    'dl',
    { class: 'facts' },
    rows.flatMap(([k, v]) => [
      h('dt', {}, h('code', {}, k)),
      h('dd', {}, `${when(v as number)} (${relative(v as number)})`),
    ]),
  );
}
