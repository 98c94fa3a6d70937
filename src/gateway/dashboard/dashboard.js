/*
 * The sipwarden live dashboard (docs/dashboard.md). Reads the admin JSON API
 * (docs/admin-api.md) every few seconds with the bearer token the operator pasted, kept in
 * sessionStorage (gone with the tab) and sent as an Authorization header: no cookies.
 * Every value from the gateway is attacker-reachable (user agents, numbers, addresses):
 * it goes into the page as text (textContent, setAttribute), never as markup.
 */
'use strict';

const REFRESH_MS = 3000;
const TOKEN_KEY = 'sipwarden.admin.token';
const API = '/api/v1/';

let timer = null;
let refreshes = 0;
let busy = false;

function $(id) {
    return document.getElementById(id);
}

/* An element with text or child elements; `attrs` are set as attributes (text only). */
function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
        if (value !== null && value !== undefined) {
            node.setAttribute(name, String(value));
        }
    }
    for (const child of children) {
        node.append(child instanceof Node ? child : document.createTextNode(text(child)));
    }
    return node;
}

function text(value) {
    return value === null || value === undefined ? '' : String(value);
}

function setText(id, value) {
    $(id).textContent = text(value);
}

function showState(message, isError) {
    const state = $('state');
    state.textContent = message;
    state.className = isError ? 'error' : '';
}

function token() {
    return sessionStorage.getItem(TOKEN_KEY);
}

class ApiError extends Error {
    constructor(status, message) {
        super(message);
        this.status = status;
    }
}

async function api(path, body) {
    const init = { headers: { Authorization: 'Bearer ' + token() }, cache: 'no-store' };
    if (body !== undefined) {
        init.method = 'POST';
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    const response = await fetch(API + path, init);
    let doc = null;
    try {
        doc = await response.json();
    } catch (e) {
        doc = null;
    }
    if (!response.ok) {
        throw new ApiError(response.status, (doc && doc.error) || response.statusText);
    }
    return doc;
}

function clock(ms) {
    if (ms === null || ms === undefined) {
        return '';
    }
    const d = new Date(ms);
    const now = new Date();
    const iso = d.toISOString();
    return d.toDateString() === now.toDateString() ? iso.slice(11, 19) : iso.slice(0, 16).replace('T', ' ');
}

function money(micro) {
    return (micro / 1e6).toFixed(2);
}

/* "spent / cap" of one period, with a class when the cap is near or reached. */
function spendCell(spend, period, capKey) {
    if (!spend) {
        return el('td', {}, '-');
    }
    const spent = spend[period] + (period === 'today' ? spend.live : 0);
    const cap = spend[capKey];
    const share = cap ? spent / cap : 0;
    const cls = share >= 1 ? 'over' : share >= 0.8 ? 'near' : null;
    return el('td', { class: cls }, money(spent) + ' / ' + (cap ? money(cap) : 'no cap'));
}

/* A button whose action asks for confirmation first, then posts and refreshes. */
function actionButton(label, question, path, body, attrs) {
    const button = el('button', Object.assign({ type: 'button', 'data-action': path }, attrs), label);
    button.addEventListener('click', async () => {
        if (!window.confirm(question)) {
            return;
        }
        try {
            const doc = await api(path, body);
            showState(label + ': done ' + JSON.stringify(doc), false);
        } catch (e) {
            showState(label + ': ' + e.message, true);
        }
        refresh();
    });
    return button;
}

function fill(tableId, rows) {
    $(tableId).tBodies[0].replaceChildren(...rows);
}

function renderStatus(s) {
    setText('node', s.node);
    setText('calls-now', s.calls);
    setText('calls-per-minute', s.calls_per_minute);
    setText('failures-per-minute', s.failures_per_minute);
    setText('bans-count', s.bans);
    setText('alerts-count', s.alerts_open);
    setText('registrations', s.registrations);
    setText('isolated', s.isolated);
}

function renderAlerts(doc) {
    fill('alerts', doc.open.map((a) => el('tr', { 'data-rule': a.rule },
        el('td', { class: 'sev-' + a.severity }, a.severity),
        el('td', {}, a.title || a.rule),
        el('td', {}, a.key),
        el('td', {}, a.value + (a.threshold ? ' / ' + a.threshold : '')),
        el('td', {}, clock(a.time)),
        el('td', {}, a.detail))));
}

function renderTrunks(doc) {
    fill('trunks', doc.trunks.map((t) => el('tr', { 'data-trunk': t.name },
        el('td', {}, t.name),
        el('td', {}, t.provider + ':' + t.port),
        el('td', { class: t.state, title: t.isolation ? t.isolation.by + ': ' + t.isolation.reason : null }, t.state),
        el('td', {}, t.registered === null ? 'n/a' : t.registered ? 'yes' : 'NO'),
        el('td', { class: 'trunk-calls' }, t.calls + ' / ' + t.max_calls),
        spendCell(t.spend, 'today', 'daily_cap'),
        spendCell(t.spend, 'month', 'monthly_cap'),
        el('td', {}, t.isolated
            ? actionButton('Restore', 'Restore trunk ' + t.name + '?', 'trunks/restore', { trunk: t.name }, { 'data-trunk': t.name })
            : actionButton('Isolate', 'Isolate trunk ' + t.name + '? Its calls end now and new ones are refused.',
                'trunks/isolate', { trunk: t.name, reason: 'dashboard' }, { 'data-trunk': t.name })))));
}

function renderAccounts(doc) {
    fill('accounts', doc.accounts.map((a) => el('tr', { 'data-account': a.name },
        el('td', {}, a.name),
        el('td', { class: a.disabled ? 'isolated' : 'active' }, a.disabled ? 'disabled' : a.enabled ? 'active' : 'off'),
        el('td', {}, a.binding ? a.binding.address : ''),
        el('td', {}, a.calls + ' / ' + a.max_calls),
        spendCell(a.spend, 'today', 'daily_cap'),
        spendCell(a.spend, 'month', 'monthly_cap'),
        el('td', {}, a.disabled
            ? actionButton('Enable', 'Enable account ' + a.name + '?', 'accounts/enable', { account: a.name }, { 'data-account': a.name })
            : actionButton('Disable', 'Disable account ' + a.name + '? Its calls end and its registration is removed.',
                'accounts/disable', { account: a.name, reason: 'dashboard' }, { 'data-account': a.name })))));
}

function renderCalls(doc) {
    fill('calls', doc.calls.map((c) => el('tr', { 'data-call': c.id },
        el('td', {}, c.state),
        el('td', {}, c.direction),
        el('td', {}, c.account),
        el('td', {}, c.trunk),
        el('td', {}, c.source),
        el('td', {}, c.caller),
        el('td', {}, c.dialled),
        el('td', {}, c.country),
        el('td', {}, clock(c.answer || c.setup)),
        el('td', {}, actionButton('Kill', 'End the call from ' + c.caller + ' to ' + c.dialled + '?',
            'calls/kill', { id: c.id }, { 'data-call': c.id })))));
    setText('calls-note', doc.total > doc.calls.length ? doc.total + ' calls, ' + doc.calls.length + ' shown' : '');
}

function renderBans(doc) {
    fill('bans', doc.bans.map((b) => el('tr', { 'data-ip': b.ip },
        el('td', {}, b.ip),
        el('td', {}, b.source),
        el('td', {}, b.reason),
        el('td', {}, b.offence),
        el('td', {}, b.end === null ? 'never' : clock(b.end * 1000)),
        el('td', {}, actionButton('Unban', 'Remove the ban of ' + b.ip + '?', 'bans/remove', { ip: b.ip }, { 'data-ip': b.ip })))));
}

/* "192.0.2.1:5060" or "[2001:db8::1]:5060" without the port. */
function hostOf(remote) {
    if (remote.startsWith('[')) {
        return remote.slice(1, remote.indexOf(']'));
    }
    const colon = remote.lastIndexOf(':');
    return colon > 0 ? remote.slice(0, colon) : remote;
}

/* The addresses behind the most failures among the events kept, with their bans. */
function renderAttackers(events, bans) {
    const banned = new Set(bans.bans.map((b) => b.ip));
    const by = new Map();
    for (const e of events.events) {
        if (!e.failure || !e.remote) {
            continue;
        }
        const ip = hostOf(e.remote);
        const row = by.get(ip) || { ip: ip, count: 0, kind: e.kind, agent: e.user_agent };
        row.count += e.count || 1;
        by.set(ip, row);
    }
    const top = [...by.values()].sort((a, b) => b.count - a.count).slice(0, 10);
    fill('attackers', top.map((r) => el('tr', { 'data-ip': r.ip },
        el('td', {}, r.ip),
        el('td', { class: 'attacker-failures' }, r.count),
        el('td', {}, r.kind),
        el('td', {}, r.agent),
        el('td', { class: banned.has(r.ip) ? 'isolated' : null }, banned.has(r.ip) ? 'yes' : 'no'))));
}

async function refresh() {
    if (!token() || busy) {
        return;
    }
    busy = true;
    try {
        /* Status first and alone: a refused token then costs one failure, not seven. */
        const status = await api('status');
        const [trunks, accounts, calls, bans, alerts, events] = await Promise.all(
            ['trunks', 'accounts', 'calls', 'bans', 'alerts', 'events'].map((p) => api(p)));
        renderStatus(status);
        renderAlerts(alerts);
        renderTrunks(trunks);
        renderAccounts(accounts);
        renderCalls(calls);
        renderBans(bans);
        renderAttackers(events, bans);
        refreshes++;
        document.body.setAttribute('data-refreshes', String(refreshes));
        setText('refreshed', 'refreshed ' + clock(Date.now()) + ' (every ' + REFRESH_MS / 1000 + ' s)');
        const shown = $('state').textContent;
        if (shown.startsWith('Connecting') || shown.startsWith('Refresh failed')) {
            showState('Connected.', false);
        }
    } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
            /* Each refused token is a failed authentication that counts towards a ban. */
            sessionStorage.removeItem(TOKEN_KEY);
            stop();
            showState('The token was refused: paste the right one.', true);
        } else {
            showState('Refresh failed: ' + e.message, true);
        }
    } finally {
        busy = false;
    }
}

function stop() {
    if (timer !== null) {
        clearInterval(timer);
        timer = null;
    }
}

function start() {
    stop();
    showState('Connecting...', false);
    refresh();
    timer = setInterval(refresh, REFRESH_MS);
}

document.addEventListener('DOMContentLoaded', () => {
    $('token-form').addEventListener('submit', (ev) => {
        ev.preventDefault();
        const value = $('token').value.trim();
        $('token').value = '';
        if (value) {
            sessionStorage.setItem(TOKEN_KEY, value);
            start();
        }
    });
    $('token-forget').addEventListener('click', () => {
        sessionStorage.removeItem(TOKEN_KEY);
        stop();
        showState('Token forgotten.', false);
    });
    if (token()) {
        start();
    }
});
