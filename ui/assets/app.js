// Dockhand floor UI: sign-in, PDA (pick, pack, scan out, exception, timed steps),
// packing-station screen and manager console. Plain JS, no build step.
'use strict';
window.__dhErrors = [];
window.addEventListener('error', (e) => window.__dhErrors.push(String(e.message)));
document.addEventListener('securitypolicyviolation', (e) => window.__dhErrors.push('CSP blocked ' + e.violatedDirective + ' ' + e.blockedURI));
window.addEventListener('unhandledrejection', (e) => window.__dhErrors.push(String(e.reason && e.reason.stack || e.reason)));
(function () {

// ---------- i18n ----------
const T = {
  zh: {
    signin: '登录', badge: '扫工牌登录', or: '或输入工号和 PIN', code: '工号', pin: 'PIN', station: '工位(可不填)',
    signout: '退出', lang: 'English', pick: '拣货', pack: '复核打包', handover: '扫码出库', exception: '异常上报',
    step: '满赠校验', stationScreen: '打包台屏幕', manager: '主管后台', home: '首页', scanHere: '扫码或输入后按回车',
    next_order: '请扫:面单 / 订单号', next_item: '请扫:商品', next_waybill: '请再扫一次面单', next_location: '请扫:库位',
    next_parcel: '请扫:包裹面单', next_done: '完成', name: '商品', qty: '数量', gift: '赠品', cancel: '取消本单',
    confirmNoCode: '无码确认', picklist: '拣货单', startPick: '开始', urgent: '加急', due: '最晚交接', loc: '库位',
    offline: '网络断开,扫码已排队', queued: '排队', online: '在线', cage: '笼车/交接单号', openCage: '开始交接',
    closeCage: '封笼', count: '件数', category: '问题类型', text: '说明', submit: '提交', orderOpt: '订单号(可不填)',
    stepStart: '扫码开始计时', stepEnd: '扫码结束计时', running: '计时中', ack: '知道了', escalated: '已升级',
    printer: '打印机', noPrinter: '没有打印机', reprint: '补打面单', reason: '补打原因', mgrCode: '主管工号',
    mgrPin: '主管 PIN', follow: '跟随工位', overview: '概览', heat: '热力图', people: '人员', devices: '设备',
    quarantine: '隔离区', audit: '审计', open: '在库订单', urgentN: '加急', intercepted: '已拦截', toPull: '需拿出',
    notPicked: '未拣', picked: '已拣', verified: '已复核', handedToday: '今日交接', alarms: 'SLA 告警',
    outbox: '待同步事件', pendingUrgent: '待确认提醒', pullList: '拦截包裹(需拿出)', sla: 'SLA 告警', role: '角色',
    add: '添加', disable: '停用', enable: '启用', disabled: '已停用', search: '查询', operator: '操作员', order: '订单',
    spread: '时效离散度(付款→交接)', fastest: '最快 20% 平均', slowest: '最慢 20% 平均', ratio: '比值', minutes: '分钟',
    waiting: '待处理(按付款小时 × 区)', pickedHeat: '已拣(按小时 × 区)', over24: '超 24 小时未出', hubLink: '总部连接',
    roles: {picker: '拣货员', packer: '打包员', temp: '临时工', manager: '主管'},
    alarmKinds: {not_picked: '付款超 2 小时未拣', due_soon: '1 小时内须交接', not_collected: '交接 2 小时未揽收'},
    stages: {not_picked: '未拣', picked: '已拣', verified: '已复核', handed_over: '已交接(追回!)'},
    cats: {damaged_packaging: '包装破损', missing_item: '漏发/缺件', wrong_item: '错发', label_unreadable: '面单无法识别',
      stock_short: '库存不足', gift_missing: '赠品缺失', other: '其他'},
    bench: '工位', benches: '工位状态', stuck: '卡住', idle: '未操作(秒)', modes: {pack: '复核', pick: '拣货', handover: '交接'},
    pulled: '已拿出', resync: '数据已刷新', replayed: '(重复提交,未重复执行)', none: '暂无', reload: '刷新',
  },
  en: {
    signin: 'Sign in', badge: 'Scan your badge', or: 'or enter code and PIN', code: 'Operator code', pin: 'PIN', station: 'Station (optional)',
    signout: 'Sign out', lang: '中文', pick: 'Pick', pack: 'Verify & pack', handover: 'Scan out', exception: 'Report a problem',
    step: 'Gift check', stationScreen: 'Station screen', manager: 'Manager', home: 'Home', scanHere: 'Scan or type, then Enter',
    next_order: 'Scan: waybill / order no.', next_item: 'Scan: item', next_waybill: 'Scan the waybill label again', next_location: 'Scan: location',
    next_parcel: 'Scan: parcel label', next_done: 'Done', name: 'Item', qty: 'Qty', gift: 'Gift', cancel: 'Cancel order',
    confirmNoCode: 'Confirm (no barcode)', picklist: 'Pick list', startPick: 'Start', urgent: 'Urgent', due: 'Hand over by', loc: 'Location',
    offline: 'Offline: scans are queued', queued: 'queued', online: 'online', cage: 'Cage / manifest', openCage: 'Open handover',
    closeCage: 'Close cage', count: 'Parcels', category: 'Category', text: 'Details', submit: 'Submit', orderOpt: 'Order no. (optional)',
    stepStart: 'Scan to start timing', stepEnd: 'Scan to stop timing', running: 'timing', ack: 'Acknowledge', escalated: 'escalated',
    printer: 'Printer', noPrinter: 'no printer', reprint: 'Reprint waybill', reason: 'Reason', mgrCode: 'Manager code',
    mgrPin: 'Manager PIN', follow: 'Follow station', overview: 'Overview', heat: 'Heat map', people: 'People', devices: 'Devices',
    quarantine: 'Quarantine', audit: 'Audit', open: 'Open orders', urgentN: 'Urgent', intercepted: 'Intercepted', toPull: 'To pull',
    notPicked: 'Not picked', picked: 'Picked', verified: 'Verified', handedToday: 'Handed over today', alarms: 'SLA alarms',
    outbox: 'Events to sync', pendingUrgent: 'Popups pending', pullList: 'Intercepted parcels to pull', sla: 'SLA alarms', role: 'Role',
    add: 'Add', disable: 'Disable', enable: 'Enable', disabled: 'disabled', search: 'Search', operator: 'Operator', order: 'Order',
    spread: 'Delivery-time spread (paid → handed over)', fastest: 'Fastest 20% avg', slowest: 'Slowest 20% avg', ratio: 'Ratio', minutes: 'min',
    waiting: 'Waiting (paid hour × zone)', pickedHeat: 'Picked (hour × zone)', over24: 'Waiting > 24 h', hubLink: 'Hub link',
    roles: {picker: 'Picker', packer: 'Packer', temp: 'Temp', manager: 'Manager'},
    alarmKinds: {not_picked: 'paid > 2 h, not picked', due_soon: 'hand over within 1 h', not_collected: 'handed over, not collected 2 h'},
    stages: {not_picked: 'not picked', picked: 'picked', verified: 'verified', handed_over: 'handed over (recall!)'},
    cats: {damaged_packaging: 'Damaged packaging', missing_item: 'Missing item', wrong_item: 'Wrong item', label_unreadable: 'Label unreadable',
      stock_short: 'Stock short', gift_missing: 'Gift missing', other: 'Other'},
    bench: 'Station', benches: 'Benches', stuck: 'stuck', idle: 'Idle (s)', modes: {pack: 'verify', pick: 'pick', handover: 'handover'},
    pulled: 'Pulled', resync: 'Data reloaded', replayed: '(retry: not applied twice)', none: 'none', reload: 'Reload',
  },
};
let lang = localStorage.getItem('dh.lang') || 'zh';
const t = (k) => (T[lang][k] !== undefined ? T[lang][k] : k);
const msg = (o) => (o ? (lang === 'zh' ? o.msg_zh || o.msg_en : o.msg_en || o.msg_zh) || '' : '');
document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';

// ---------- tiny DOM helper ----------
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'style') el.style.cssText = v; // through the CSSOM: the page's CSP allows no inline style attributes
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat(9)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c.nodeType ? c : document.createTextNode(String(c)));
  }
  return el;
}
const $ = (s) => document.querySelector(s);
function fill(el, ...kids) { el.replaceChildren(...kids.flat(9).filter((k) => k !== null && k !== undefined && k !== false).map((k) => (k.nodeType ? k : document.createTextNode(String(k))))); }
function mount(...kids) { fill($('#app'), ...kids); }
const fmtTime = (s) => { if (!s) return ''; const d = new Date(s); return d.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', {month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit'}); };

// ---------- state ----------
const S = {me: null, view: null, verdict: null, lines: [], queue: [], online: true, handover: '', step: null, follow: ''};
try { S.queue = JSON.parse(localStorage.getItem('dh.queue') || '[]'); } catch (e) { S.queue = []; }
const saveQueue = () => localStorage.setItem('dh.queue', JSON.stringify(S.queue));
function newID() {
  const b = new Uint8Array(12); (self.crypto || window.msCrypto).getRandomValues(b);
  return Date.now().toString(36) + '-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// ---------- API ----------
async function api(method, url, body) {
  const opt = {method, headers: {}, credentials: 'same-origin'};
  if (body !== undefined) { opt.headers['Content-Type'] = 'application/json'; opt.body = JSON.stringify(body); }
  if (method !== 'GET' && S.me) opt.headers['X-Dockhand-CSRF'] = S.me.csrf;
  const r = await fetch(url, opt);
  let data = null;
  const ct = r.headers.get('Content-Type') || '';
  if (ct.includes('json')) data = await r.json();
  if ((r.status === 401 || (data && data.error === 'disabled')) && S.me && url !== '/api/signin') { S.me = null; liveStop(); go('/signin'); } // the session ended
  return {status: r.status, ok: r.ok, data};
}

// ---------- sound and vibration ----------
let actx = null;
function beep(kind) {
  try {
    actx = actx || new (window.AudioContext || window.webkitAudioContext)();
    const seq = {ok: [[1320, 0.08, 'sine', 0.3]], done: [[880, 0.1, 'sine', 0.3], [1320, 0.16, 'sine', 0.3]],
      bad: [[220, 0.22, 'square', 0.5], [180, 0.3, 'square', 0.5]],
      urgent: [[660, 0.2, 'triangle', 0.4], [880, 0.2, 'triangle', 0.4]],
      loud: [[880, 0.25, 'square', 0.9], [660, 0.25, 'square', 0.9], [880, 0.25, 'square', 0.9], [660, 0.25, 'square', 0.9]]}[kind] || [];
    let at = actx.currentTime;
    for (const [f, d, type, vol] of seq) {
      const o = actx.createOscillator(), g = actx.createGain();
      o.type = type; o.frequency.value = f; g.gain.value = vol;
      o.connect(g); g.connect(actx.destination); o.start(at); o.stop(at + d); at += d + 0.04;
    }
  } catch (e) { /* no audio: the colour still tells */ }
  if (kind === 'bad' && navigator.vibrate) navigator.vibrate([250, 100, 250, 100, 250]);
  if (kind === 'loud' && navigator.vibrate) navigator.vibrate([500, 200, 500]);
}
window.__dhSounds = [];
const play = (k) => { window.__dhSounds.push(k); beep(k); };

// ---------- live websocket ----------
const L = {ws: null, last: 0, tries: 0, timer: null, params: ''};
function liveConnect(params) {
  L.params = params || '';
  if (L.ws) { L.ws.onclose = null; L.ws.close(); }
  clearTimeout(L.timer);
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let q = L.params;
  if (L.last) q += (q ? '&' : '') + 'since=' + L.last;
  const ws = new WebSocket(proto + '//' + location.host + '/api/live' + (q ? '?' + q : ''));
  L.ws = ws;
  ws.onopen = () => { L.tries = 0; setOnline(true); };
  ws.onmessage = (e) => {
    let m; try { m = JSON.parse(e.data); } catch (x) { return; }
    if (m.type === 'hello') { if (!L.last) L.last = m.data.last; window.__dhLive = {hello: m.data}; return; }
    if (m.type === 'resync') { L.last = m.data.last; onResync(); return; }
    if (m.id && m.id <= L.last) return; // never apply twice
    if (m.id) L.last = m.id;
    onLive(m);
  };
  ws.onclose = () => {
    setOnline(false);
    if (!S.me) return;
    L.tries++;
    L.timer = setTimeout(() => liveConnect(L.params), Math.min(5000, 500 * L.tries));
  };
}
window.__dhDropLive = () => { if (L.ws) L.ws.close(); };
function liveStop() { if (L.ws) { L.ws.onclose = null; L.ws.close(); L.ws = null; } clearTimeout(L.timer); }

function onLive(m) {
  window.__dhLiveCount = (window.__dhLiveCount || 0) + 1;
  if (m.type === 'verdict') {
    const v = m.data;
    if (S.view === 'station') { showVerdict(v, true); return; }
    if (v.scan_id && S.seen && S.seen.has(v.scan_id)) return; // our own scan: already shown
    if (['pack', 'pick', 'handover'].includes(S.view)) showVerdict(v, true);
  } else if (m.type === 'urgent') {
    addPopup(m.data);
  } else if (m.type === 'ack') {
    removePopup(m.data.id);
  } else if (m.type === 'counts') {
    if (S.view === 'manager') renderCounts(m.data);
  } else if (m.type === 'devices') {
    if (S.view === 'manager' && S.tab === 'devices') managerTab('devices');
    if (S.view === 'station') loadPrinters();
  }
}
function onResync() {
  loadPopups();
  if (S.view === 'station') loadStation();
  if (S.view === 'manager') managerTab(S.tab || 'overview');
  if (['pack', 'pick', 'handover'].includes(S.view)) api('GET', '/api/session').then((r) => r.ok && showVerdict(r.data, false));
}

function setOnline(on) {
  S.online = on;
  const d = $('#livedot');
  if (d) d.className = 'dot ' + (on ? 'on' : 'off');
  renderQueue();
}

// ---------- urgent popups ----------
S.popups = new Map();
function addPopup(p) {
  if (S.me && S.me.role === 'temp' && p.kind === 'order') return;
  const had = S.popups.get(p.id);
  S.popups.set(p.id, {...p, shownAt: had ? had.shownAt : Date.now()});
  renderPopups();
  play(p.escalated ? 'loud' : 'urgent');
}
function removePopup(id) { S.popups.delete(id); renderPopups(); }
async function loadPopups() {
  const r = await api('GET', '/api/urgent');
  if (!r.ok) return;
  S.popups.clear();
  for (const p of r.data) S.popups.set(p.id, p);
  renderPopups();
  if (r.data.length) play(r.data.some((p) => p.escalated) ? 'loud' : 'urgent');
}
function renderPopups() {
  const box = $('#popups');
  // Escalated first, then oldest; at most three at a time so the page stays usable.
  const all = [...S.popups.values()].sort((a, b) => (b.escalated - a.escalated) || (new Date(a.created) - new Date(b.created)));
  fill(box, ...all.slice(0, 3).map((p) => h('div', {class: 'popup' + (p.escalated ? ' esc' : ''), 'data-id': p.id},
    h('div', {class: 't'}, p.escalated ? '⚠ ' + t('escalated') + ' · ' : '🔔 ', lang === 'zh' ? p.text_zh : p.text_en),
    h('button', {class: 'btn', onclick: async () => {
      const r = await api('POST', '/api/urgent/ack', {id: p.id});
      if (r.ok) removePopup(p.id);
    }}, t('ack')))),
  all.length > 3 ? h('div', {class: 'popup more'}, h('div', {class: 't'}, '+' + (all.length - 3))) : null);
}
// Unacknowledged popups come back louder while the page is open.
setInterval(() => { for (const p of S.popups.values()) if (p.escalated) { play('loud'); break; } }, 60000);

// ---------- routing ----------
function go(path) { if (location.pathname + location.search !== path) history.pushState(null, '', path); route(); }
window.addEventListener('popstate', route);

async function route() {
  if (!S.me) {
    const r = await api('GET', '/api/me');
    if (r.ok) S.me = r.data;
  }
  const p = location.pathname;
  renderBar();
  if (!S.me || p === '/signin') { liveStop(); return signinPage(); }
  const params = new URLSearchParams(location.search);
  if (p === '/station') {
    S.follow = params.get('station') || S.me.station;
    liveConnect('station=' + encodeURIComponent(S.follow));
    loadPopups();
    return stationPage();
  }
  if (p === '/manager' && S.me.role === 'manager') {
    liveConnect('all=1');
    loadPopups();
    return managerPage();
  }
  liveConnect('');
  loadPopups();
  pdaPage(params.get('v') || 'home');
}

function renderBar() {
  const me = S.me;
  fill($('#bar'), ...[
    h('span', {id: 'livedot', class: 'dot ' + (S.online ? 'on' : 'off')}),
    me ? h('span', {class: 'who'}, me.name + ' · ' + (t('roles')[me.role] || me.role)) : h('span', {class: 'who'}, 'Dockhand'),
    me ? h('span', {class: 'muted'}, me.station) : null,
    h('span', {class: 'sp'}),
    me && location.pathname !== '/pda' && me.role !== 'temp' ? h('button', {onclick: () => go('/pda')}, t('home')) : null,
    h('button', {id: 'langbtn', onclick: () => { lang = lang === 'zh' ? 'en' : 'zh'; localStorage.setItem('dh.lang', lang); document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en'; route(); }}, t('lang')),
    me ? h('button', {id: 'signout', onclick: async () => { await api('POST', '/api/signout', {}); S.me = null; liveStop(); go('/signin'); }}, t('signout')) : null].filter(Boolean));
}

// ---------- sign-in ----------
function signinPage() {
  S.view = 'signin';
  const err = h('div', {class: 'err', id: 'err'});
  const badge = h('input', {type: 'text', id: 'badge', autocomplete: 'off', placeholder: t('badge')});
  const code = h('input', {type: 'text', id: 'code', autocomplete: 'username'});
  const pin = h('input', {type: 'password', id: 'pin', inputmode: 'numeric', autocomplete: 'current-password'});
  const station = h('input', {type: 'text', id: 'station', value: localStorage.getItem('dh.station') || ''});
  async function submit(body) {
    body.station = station.value.trim();
    localStorage.setItem('dh.station', body.station);
    const r = await api('POST', '/api/signin', body);
    if (!r.ok) { err.textContent = msg(r.data) || ('HTTP ' + r.status); play('bad'); return; }
    S.me = r.data;
    go(S.me.role === 'manager' ? '/manager' : '/pda');
  }
  badge.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); const v = badge.value.trim(); badge.value = ''; if (v) submit({badge: v}); } });
  mount(h('div', {class: 'card'},
    h('h1', null, 'Dockhand · ' + t('signin')),
    h('label', {for: 'badge'}, t('badge')), badge,
    h('p', {class: 'muted'}, t('or')),
    h('form', {id: 'pinform', onsubmit: (e) => { e.preventDefault(); submit({code: code.value.trim(), pin: pin.value}); pin.value = ''; }},
      h('label', {for: 'code'}, t('code')), code,
      h('label', {for: 'pin'}, t('pin')), pin,
      h('label', {for: 'station'}, t('station')), station,
      h('p', null, h('button', {class: 'btn', type: 'submit', id: 'signin'}, t('signin'))), err)));
  badge.focus();
}

// ---------- PDA ----------
function pdaPage(v) {
  const role = S.me.role;
  const allowed = {temp: ['home', 'handover', 'exception'], picker: ['home', 'pick', 'exception', 'step'],
    packer: ['home', 'pack', 'handover', 'exception', 'step'], manager: ['home', 'pick', 'pack', 'handover', 'exception', 'step']}[role] || ['home'];
  if (!allowed.includes(v)) v = 'home';
  S.view = v;
  if (v === 'home') {
    const btn = (view, cls, label) => h('button', {class: 'big ' + cls, id: 'go-' + view, onclick: () => go('/pda?v=' + view)}, label);
    const kids = [];
    if (role === 'temp') {
      kids.push(btn('handover', 'green', '📦 ' + t('handover')), btn('exception', 'red', '⚠ ' + t('exception')));
    } else {
      if (allowed.includes('pick')) kids.push(btn('pick', '', t('pick')));
      if (allowed.includes('pack')) kids.push(btn('pack', 'green', t('pack')));
      if (allowed.includes('handover')) kids.push(btn('handover', 'gray', t('handover')));
      if (allowed.includes('step')) kids.push(btn('step', 'gray', t('step')));
      kids.push(btn('exception', 'red', t('exception')));
      if (role === 'packer' || role === 'manager') kids.push(h('button', {class: 'big gray', onclick: () => go('/station?station=' + encodeURIComponent(S.me.station))}, t('stationScreen')));
      if (role === 'manager') kids.push(h('button', {class: 'big gray', onclick: () => go('/manager')}, t('manager')));
    }
    return mount(h('div', null, ...kids));
  }
  if (v === 'exception') return exceptionPage();
  if (v === 'step') return stepPage();
  return scanPage(v);
}

// The scan box: a keyboard-wedge scanner types into it and ends with Enter.
function scanBox(onScan, id) {
  const input = h('input', {type: 'text', id: id || 'scan', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', enterkeyhint: 'go', placeholder: t('scanHere')});
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      const code = input.value.trim();
      input.value = '';
      if (code) onScan(code);
    }
  });
  // Keep the focus on the scan box so the wedge never types into nothing.
  input.addEventListener('blur', () => setTimeout(() => {
    const a = document.activeElement;
    if (document.body.contains(input) && (!a || a === document.body || a.tagName === 'BUTTON')) input.focus();
  }, 150));
  setTimeout(() => input.focus(), 0);
  return h('div', {class: 'scanbox'}, input);
}

function nextText(v) { return t('next_' + (v && v.next ? v.next : 'order')); }

function scanPage(mode) {
  S.seen = S.seen || new Set();
  const extra = [];
  if (mode === 'pick') extra.push(h('div', {id: 'picklist'}));
  if (mode === 'handover') {
    const cage = h('input', {type: 'text', id: 'cage', placeholder: t('cage'), value: S.handover});
    extra.push(h('div', {class: 'card row'}, h('div', {class: 'grow'}, cage),
      h('button', {class: 'btn', id: 'opencage', onclick: () => { S.handover = cage.value.trim(); enqueue('/api/action', {kind: 'handover_open', handover_id: S.handover}); }}, t('openCage')),
      S.me.role !== 'temp' ? h('button', {class: 'btn gray', id: 'closecage', onclick: () => enqueue('/api/action', {kind: 'handover_close'})}, t('closeCage')) : null));
  }
  mount(h('div', null,
    h('div', {id: 'queue'}),
    h('div', {id: 'verdict', class: 'verdict'}, h('div', {class: 'msg'}, nextText(null))),
    h('div', {class: 'next', id: 'next'}, nextText(null)),
    h('div', {id: 'tags'}),
    h('div', {id: 'lines'}),
    ...extra,
    mode === 'pack' || mode === 'pick' ? h('p', null, h('button', {class: 'btn gray small', id: 'cancel', onclick: () => enqueue('/api/action', {kind: 'cancel'})}, t('cancel'))) : null,
    scanBox((code) => enqueue('/api/scan', {code, mode, handover_id: S.handover || undefined}))));
  renderQueue();
  api('GET', '/api/session').then((r) => { if (r.ok && r.data.mode === mode) showVerdict(r.data, false); });
  if (mode === 'pick') loadPickList();
}

async function loadPickList() {
  const r = await api('GET', '/api/picklist');
  const box = $('#picklist');
  if (!box || !r.ok) return;
  fill(box, h('h2', null, t('picklist')), ...r.data.slice(0, 20).map((p) => h('div', {class: 'card row'},
    h('div', {class: 'grow'}, p.urgent ? h('span', {class: 'tag red'}, t('urgent')) : null, h('b', null, p.order_id), ' · ', t('loc'), ' ', h('b', null, p.first_location),
      p.promised_ship_by ? h('div', {class: 'muted'}, t('due') + ' ' + fmtTime(p.promised_ship_by)) : null,
      (p.tags || []).map((x) => h('span', {class: 'tag hot'}, x))),
    h('button', {class: 'btn', onclick: () => enqueue('/api/action', {kind: 'pick_start', order_id: p.order_id})}, t('startPick')))));
}

// ---------- the scan queue: survives Wi-Fi loss, never double-submits ----------
function enqueue(url, body) {
  body.scan_id = newID();
  S.seen = S.seen || new Set();
  S.seen.add(body.scan_id);
  S.queue.push({url, body});
  saveQueue();
  renderQueue();
  pump();
}
let pumping = false;
async function pump() {
  if (pumping) return;
  pumping = true;
  try {
    while (S.queue.length) {
      const item = S.queue[0];
      let r;
      try {
        r = await api('POST', item.url, item.body);
      } catch (e) {
        r = null; // network down: keep it, same scan id on retry
      }
      if (!r || r.status >= 500 || r.status === 0) {
        setOnline(false);
        await new Promise((res) => setTimeout(res, 1500));
        continue;
      }
      setOnline(true);
      S.queue.shift();
      saveQueue();
      renderQueue();
      if (r.status === 401) break;
      if (r.ok) showVerdict(r.data, true);
      else if (!r.ok) {
        const d = r.data || {}, pv = S.verdict || {};
        showVerdict({ok: false, msg_zh: d.msg_zh, msg_en: d.msg_en, next: pv.next, lines: pv.lines, order_id: pv.order_id}, true);
      }
      if (S.view === 'pick' && (item.body.kind === 'pick_start' || r.data && r.data.done)) loadPickList();
    }
  } finally {
    pumping = false;
  }
}
function renderQueue() {
  const q = $('#queue');
  if (!q) return;
  fill(q, !S.online || S.queue.length > 1 ? h('div', {class: 'offline', id: 'offline'}, t('offline') + ' · ' + t('queued') + ' ' + S.queue.length) : '');
}
window.addEventListener('online', pump);

// ---------- verdict display ----------
let flashTimer = null;
function showVerdict(v, fresh) {
  if (!v) return;
  S.verdict = v;
  const box = $('#verdict');
  if (!box) return;
  const cls = v.ok === false ? 'bad' : v.done ? 'done' : v.ok && fresh ? 'ok' : '';
  box.className = 'verdict ' + cls;
  fill(box, h('div', {class: 'msg', id: 'vmsg'}, msg(v) || nextText(v)),
    v.order_id ? h('div', {class: 'sub'}, v.order_id + (v.waybill_no ? ' · ' + v.waybill_no : '') + (v.carrier ? ' · ' + v.carrier : '')) : null,
    v.replayed ? h('div', {class: 'sub'}, t('replayed')) : null,
    v.handover_id ? h('div', {class: 'sub', id: 'count'}, v.handover_id + ' · ' + t('count') + ' ' + (v.count || 0)) : null);
  const nx = $('#next');
  if (nx) nx.textContent = nextText(v) + (v.location ? ' ' + v.location : '');
  const tags = $('#tags');
  if (tags) fill(tags, ...(v.urgent ? [h('span', {class: 'tag red'}, t('urgent'))] : []),
    ...(v.tags || []).map((x) => h('span', {class: 'tag ' + (x === '重点复核' || x === '易碎' ? 'red' : 'hot')}, x)),
    v.remark ? h('span', {class: 'tag'}, '留言: ' + v.remark) : null);
  renderLines(v.mode === 'handover' ? [] : v.lines || []); // a parcel going out needs no item count
  if (S.view === 'station' && v.order_id && S.me.printing) {
    const pb = $('#previewbox');
    if (pb && pb.dataset.order !== v.order_id) {
      pb.dataset.order = v.order_id;
      fill(pb, h('img', {class: 'preview', id: 'preview', alt: v.order_id, src: '/api/preview/' + encodeURIComponent(v.order_id)}));
    }
  }
  if (fresh) {
    if (v.ok === false) { play('bad'); flash('bad', msg(v)); } else if (v.done) { play('done'); flash('ok', msg(v)); } else {
      if (v.ok) play('ok');
      const f = $('#flash');
      if (f) f.hidden = true; // the next good scan clears the red screen
    }
  }
}
function flash(kind, text) {
  let f = $('#flash');
  if (!f) { f = h('div', {id: 'flash'}); document.body.append(f); }
  f.className = 'full ' + kind;
  fill(f, h('div', null, kind === 'bad' ? '✖' : '✔'), h('div', {class: 'why'}, text));
  f.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { f.hidden = true; }, kind === 'bad' ? 2200 : 900);
  f.onclick = () => { f.hidden = true; };
}
function renderLines(lines) {
  const box = $('#lines');
  if (!box) return;
  if (!lines.length) { fill(box, ); return; }
  fill(box, h('table', {id: 'linetable'},
    h('tr', null, h('th', null, t('name')), h('th', null, t('qty'))),
    ...lines.map((l) => h('tr', {class: (l.scanned >= l.qty ? 'full-line ' : '') + (l.gift ? 'gift ' : '') + (l.on_hold ? 'hold' : ''), 'data-line': l.line_id},
      h('td', null, l.gift ? h('span', {class: 'tag gift'}, '🎁 ' + t('gift')) : null, h('b', null, l.name),
        l.spec ? h('div', {class: 'muted'}, l.spec) : null, l.location ? h('div', {class: 'muted'}, t('loc') + ' ' + l.location) : null,
        l.no_barcode && l.scanned < l.qty ? h('button', {class: 'btn small', onclick: () => enqueue('/api/action', {kind: 'confirm_line', line_id: l.line_id})}, t('confirmNoCode')) : null),
      h('td', {class: 'qty'}, l.scanned + ' / ' + l.qty)))));
}

// ---------- exception report ----------
async function exceptionPage() {
  const r = await api('GET', '/api/exception/categories');
  const cats = r.ok ? r.data : [];
  const sel = h('select', {id: 'category'}, ...cats.map((c) => h('option', {value: c}, t('cats')[c] || c)));
  const text = h('textarea', {id: 'text', rows: 3});
  const order = h('input', {type: 'text', id: 'order'});
  const out = h('div', {class: 'err', id: 'result'});
  mount(h('div', {class: 'card'}, h('h1', null, t('exception')),
    h('label', {for: 'category'}, t('category')), sel,
    h('label', {for: 'order'}, t('orderOpt')), order,
    h('label', {for: 'text'}, t('text')), text,
    h('p', null, h('button', {class: 'btn red', id: 'submit', onclick: async () => {
      const body = {scan_id: newID(), category: sel.value, text: text.value, order_id: order.value.trim() || undefined};
      let res;
      for (let i = 0; i < 20; i++) { // same scan id on every retry
        try { res = await api('POST', '/api/exception', body); if (res.status < 500) break; } catch (e) { /* retry */ }
        await new Promise((ok) => setTimeout(ok, 1500));
      }
      out.style.color = res && res.ok ? '#047857' : '#b91c1c';
      out.textContent = res ? msg(res.data) : t('offline');
      if (res && res.ok) { text.value = ''; order.value = ''; play('done'); } else play('bad');
    }}, t('submit'))), out));
}

// ---------- timed step (满赠校验) ----------
function stepPage() {
  const state = h('div', {class: 'verdict', id: 'verdict'}, h('div', {class: 'msg'}, S.step ? t('running') : t('stepStart')));
  const scan = async (code) => {
    const phase = S.step ? 'end' : 'start';
    const r = await api('POST', '/api/step', {scan_id: newID(), step: 'gift_check', phase, code});
    if (!r.ok) { state.className = 'verdict bad'; state.firstChild.textContent = msg(r.data); play('bad'); return; }
    if (phase === 'start') { S.step = r.data; state.className = 'verdict ok'; state.firstChild.textContent = t('running') + ' · ' + (r.data.order_id || code) + ' · ' + t('stepEnd'); play('ok'); } else {
      S.step = null; state.className = 'verdict done'; state.firstChild.textContent = '✔ ' + Math.round(r.data.duration_ms / 1000) + ' s · ' + t('stepStart'); play('done');
    }
  };
  mount(h('div', null, h('h1', null, t('step')), state, scanBox(scan)));
}

// ---------- packing-station screen ----------
function stationPage() {
  S.view = 'station';
  mount(h('div', null,
    h('div', {class: 'row'}, h('h1', {class: 'grow'}, t('stationScreen') + ' · ' + S.follow),
      h('span', {id: 'printer', class: 'tag'}, t('printer'))),
    h('div', {class: 'cols'},
      h('div', null, h('div', {id: 'verdict', class: 'verdict'}, h('div', {class: 'msg'}, nextText(null))),
        h('div', {class: 'next', id: 'next'}), h('div', {id: 'tags'}), h('div', {id: 'lines'})),
      h('div', null, h('div', {class: 'card', id: 'previewbox'}, h('span', {class: 'muted'}, '—')),
        h('button', {class: 'btn red', id: 'reprint', onclick: reprintDialog}, t('reprint'))))));
  loadStation();
  loadPrinters();
}
async function loadStation() {
  const r = await api('GET', '/api/stations/' + encodeURIComponent(S.follow));
  if (r.ok) showVerdict(r.data, false);
}
async function loadPrinters() {
  const r = await api('GET', '/api/printers');
  const el = $('#printer');
  if (!el || !r.ok) return;
  if (!r.data.available) { el.textContent = t('printer') + ': ' + t('noPrinter'); el.className = 'tag'; return; }
  const mine = r.data.printers.find((p) => p.station === S.follow) || r.data.printers[0];
  el.textContent = t('printer') + ': ' + (mine ? mine.id + ' ' + mine.state : t('noPrinter'));
  el.className = 'tag ' + (mine && mine.state === 'ready' ? '' : 'red');
}
function reprintDialog() {
  const order = h('input', {type: 'text', id: 'rp-order', value: (S.verdict && S.verdict.order_id) || ''});
  const reason = h('input', {type: 'text', id: 'rp-reason'});
  const code = h('input', {type: 'text', id: 'rp-code'});
  const pin = h('input', {type: 'password', id: 'rp-pin', inputmode: 'numeric'});
  const err = h('div', {class: 'err', id: 'rp-err'});
  const m = h('div', {class: 'modal', id: 'rp-modal'}, h('div', {class: 'card'}, h('h2', null, t('reprint')),
    h('label', null, t('order')), order, h('label', null, t('reason')), reason,
    h('label', null, t('mgrCode')), code, h('label', null, t('mgrPin')), pin,
    h('div', {class: 'row'}, h('button', {class: 'btn red', id: 'rp-ok', onclick: async () => {
      const r = await api('POST', '/api/reprint', {order_id: order.value.trim(), reason: reason.value.trim(), manager_code: code.value.trim(), manager_pin: pin.value});
      pin.value = '';
      if (!r.ok) { err.textContent = msg(r.data); play('bad'); return; }
      err.style.color = '#047857'; err.textContent = msg(r.data); play('done');
      setTimeout(() => m.remove(), 1200);
    }}, t('submit')), h('button', {class: 'btn gray', onclick: () => m.remove()}, '✕')), err));
  document.body.append(m);
  reason.focus();
}

// ---------- manager console ----------
const TABS = ['overview', 'heat', 'people', 'devices', 'quarantine', 'audit'];
function managerPage() {
  S.view = 'manager';
  mount(h('div', null,
    h('div', {class: 'tabs', id: 'tabs'}, ...TABS.map((k) => h('button', {id: 'tab-' + k, onclick: () => managerTab(k)}, t(k)))),
    h('div', {id: 'tab'})));
  managerTab(S.tab || 'overview');
}
function setTab(k, ...kids) {
  S.tab = k;
  for (const b of document.querySelectorAll('#tabs button')) b.className = b.id === 'tab-' + k ? 'on' : '';
  const tab = $('#tab');
  if (tab) fill(tab, ...kids);
}
function renderCounts(c) {
  const box = $('#counts');
  if (!box) return;
  const n = (k, v, cls) => h('div', {class: 'num ' + (cls || ''), id: 'n-' + k}, h('b', null, v), t(k));
  fill(box, n('open', c.open), n('urgentN', c.urgent, c.urgent ? 'warn' : ''), n('intercepted', c.intercepted, c.intercepted ? 'alarm' : ''),
    n('toPull', c.to_pull, c.to_pull ? 'alarm' : ''), n('notPicked', c.not_picked), n('picked', c.picked), n('verified', c.verified),
    n('handedToday', c.handed_over_today), n('alarms', c.alarms, c.alarms ? 'alarm' : ''), n('outbox', c.outbox_pending, c.outbox_pending > 100 ? 'warn' : ''),
    n('quarantine', c.quarantined, c.quarantined ? 'warn' : ''), n('pendingUrgent', S.popups.size, S.popups.size ? 'warn' : ''));
}
const table = (head, rows) => h('table', null, h('tr', null, ...head.map((x) => h('th', null, x))), ...rows);
async function managerTab(k) {
  if (k === 'overview') {
    setTab(k, h('div', {class: 'grid', id: 'counts'}), h('h2', null, t('pullList')), h('div', {id: 'pull'}), h('h2', null, t('benches')), h('div', {id: 'benches'}), h('h2', null, t('sla')), h('div', {id: 'sla'}));
    const [c, pull, sla, bn] = await Promise.all([api('GET', '/api/manager/counts'), api('GET', '/api/manager/pull'), api('GET', '/api/manager/sla'), api('GET', '/api/manager/benches')]);
    if (c.ok) renderCounts(c.data);
    if (bn.ok) fill($('#benches'), bn.data.length ? table([t('bench'), t('operator'), '', t('order'), t('qty'), t('idle')], bn.data.map((b) => h('tr', {class: b.stuck ? 'hold' : '', 'data-bench': b.station},
      h('td', null, h('b', null, b.station), b.stuck ? h('span', {class: 'tag red'}, t('stuck')) : null), h('td', null, b.operator),
      h('td', null, t('modes')[b.mode] || b.mode), h('td', null, b.order_id || b.handover_id || ''), h('td', null, b.scanned), h('td', null, b.idle_s)))) : h('p', {class: 'muted'}, t('none')));
    if (pull.ok) fill($('#pull'), pull.data.length ? table([t('order'), t('stages').verified, t('loc'), ''], pull.data.map((p) => h('tr', null,
      h('td', null, h('b', null, p.order_id), h('div', {class: 'muted'}, (p.reason || '') + ' ' + (p.note || ''))),
      h('td', null, h('span', {class: 'tag ' + (p.stage === 'not_picked' ? '' : 'red')}, t('stages')[p.stage] || p.stage)),
      h('td', null, p.location || ''),
      h('td', null, h('button', {class: 'btn small', onclick: async () => {
        const r = await api('POST', '/api/action', {scan_id: newID(), kind: 'pulled', order_id: p.order_id, location: '拦截区'});
        if (r.ok) managerTab('overview');
      }}, t('pulled')))))) : h('p', {class: 'muted'}, t('none')));
    if (sla.ok) fill($('#sla'), sla.data.length ? table([t('order'), t('alarms'), t('minutes')], sla.data.slice(0, 100).map((a) => h('tr', null,
      h('td', null, a.urgent ? h('span', {class: 'tag red'}, t('urgent')) : null, a.order_id, a.carrier ? ' · ' + a.carrier : ''),
      h('td', null, t('alarmKinds')[a.kind] || a.kind), h('td', null, a.overdue)))) : h('p', {class: 'muted'}, t('none')));
  } else if (k === 'heat') {
    setTab(k, h('div', {id: 'heat'}));
    const [hm, sp] = await Promise.all([api('GET', '/api/manager/heatmap'), api('GET', '/api/manager/spread')]);
    const kids = [];
    if (sp.ok) {
      const s = sp.data;
      kids.push(h('h2', null, t('spread')), h('div', {class: 'grid', id: 'spread'},
        h('div', {class: 'num'}, h('b', null, s.orders), t('handedToday')), h('div', {class: 'num'}, h('b', null, s.fastest20_avg_min), t('fastest') + ' (' + t('minutes') + ')'),
        h('div', {class: 'num'}, h('b', null, s.slowest20_avg_min), t('slowest') + ' (' + t('minutes') + ')'),
        h('div', {class: 'num ' + (s.ratio > 3 ? 'alarm' : '')}, h('b', null, s.ratio ? '1 : ' + s.ratio : '—'), t('ratio'))));
    }
    if (hm.ok) {
      const m = hm.data, max = Math.max(1, ...m.waiting.flat(), ...m.picked.flat());
      // Zones down, hours of the day across: one compact strip per zone.
      const heat = (mat) => table(['', ...Array.from({length: 24}, (_, i) => String(i))], m.zones.map((z, zi) => h('tr', null, h('th', null, z),
        ...mat.map((row) => { const n = row[zi]; return h('td', {style: n ? 'background:rgba(220,38,38,' + (0.12 + 0.88 * n / max).toFixed(2) + ')' : ''}, n || ''); }))));
      kids.push(h('h2', null, t('over24')), h('div', {class: 'row'}, ...m.zones.map((z, i) => h('span', {class: 'tag ' + (m.over_24h[i] ? 'red' : '')}, z + ': ' + m.over_24h[i]))),
        h('h2', null, t('waiting')), h('div', {class: 'heat'}, heat(m.waiting)), h('h2', null, t('pickedHeat')), h('div', {class: 'heat'}, heat(m.picked)));
    }
    fill($('#heat'), ...kids);
  } else if (k === 'people') {
    const r = await api('GET', '/api/operators');
    const f = {code: h('input', {type: 'text', id: 'op-code', placeholder: t('code')}), name: h('input', {type: 'text', id: 'op-name', placeholder: 'Name / 姓名'}),
      role: h('select', {id: 'op-role'}, ...['picker', 'packer', 'temp', 'manager'].map((x) => h('option', {value: x}, t('roles')[x]))),
      pin: h('input', {type: 'password', id: 'op-pin', placeholder: 'PIN'}), badge: h('input', {type: 'text', id: 'op-badge', placeholder: t('badge')})};
    const err = h('div', {class: 'err', id: 'op-err'});
    setTab(k, h('div', {class: 'card'}, h('div', {class: 'grid'}, f.code, f.name, f.role, f.pin, f.badge,
      h('button', {class: 'btn', id: 'op-add', onclick: async () => {
        const res = await api('POST', '/api/operators', {code: f.code.value.trim(), name: f.name.value.trim(), role: f.role.value, pin: f.pin.value || undefined, badge: f.badge.value.trim() || undefined});
        if (!res.ok) { err.textContent = msg(res.data); return; }
        managerTab('people');
      }}, t('add'))), err),
    r.ok ? table([t('code'), 'Name', t('role'), ''], r.data.map((o) => h('tr', {'data-op': o.code}, h('td', null, o.code), h('td', null, o.name),
      h('td', null, t('roles')[o.role] || o.role, o.disabled ? h('span', {class: 'tag red'}, t('disabled')) : null),
      h('td', null, h('button', {class: 'btn small ' + (o.disabled ? 'green' : 'gray'), onclick: async () => {
        const res = await api('POST', '/api/operators/' + encodeURIComponent(o.code) + (o.disabled ? '/enable' : '/disable'), {});
        if (!res.ok) { err.textContent = msg(res.data); return; }
        managerTab('people');
      }}, o.disabled ? t('enable') : t('disable')))))) : null);
  } else if (k === 'devices') {
    const r = await api('GET', '/api/manager/status');
    if (!r.ok) return setTab(k, h('p', {class: 'err'}, msg(r.data)));
    const s = r.data;
    setTab(k, h('div', {class: 'grid'}, h('div', {class: 'num ' + (s.hub_link.state === 'online' ? '' : 'alarm')}, h('b', null, s.hub_link.state), t('hubLink')),
      h('div', {class: 'num'}, h('b', null, s.outbox_pending), t('outbox')), h('div', {class: 'num'}, h('b', null, s.feed_cursor), 'feed seq'),
      h('div', {class: 'num'}, h('b', null, s.live_connections), 'live')),
    table(['id', 'kind', 'state'], [...s.devices.map((d) => h('tr', null, h('td', null, d.id), h('td', null, d.kind), h('td', null, d.state))),
      ...s.printers.map((p) => h('tr', null, h('td', null, p.id), h('td', null, 'printer'), h('td', null, p.state)))]));
  } else if (k === 'quarantine') {
    const r = await api('GET', '/api/manager/quarantine');
    setTab(k, r.ok && r.data.length ? h('div', null, ...r.data.map((q) => h('div', {class: 'card'},
      h('div', null, h('b', null, '#' + q.id), ' seq ' + (q.seq || '—') + ' · ' + fmtTime(q.at) + ' · ' + q.topic),
      h('div', {class: 'err'}, q.reason), h('pre', null, q.raw)))) : h('p', {class: 'muted'}, t('none')));
  } else if (k === 'audit') {
    const order = h('input', {type: 'text', id: 'au-order', placeholder: t('order')});
    const op = h('input', {type: 'text', id: 'au-op', placeholder: t('operator')});
    const out = h('div', {id: 'au-out'});
    const search = async () => {
      const q = new URLSearchParams({order: order.value.trim(), operator: op.value.trim(), limit: 200});
      const r = await api('GET', '/api/manager/audit?' + q);
      if (r.ok) fill(out, table(['#', 'time', t('operator'), 'action', t('order'), 'code', ''], r.data.slice().reverse().map((a) => h('tr', null,
        h('td', null, a.seq), h('td', null, fmtTime(a.at)), h('td', null, a.operator || ''), h('td', null, a.action),
        h('td', null, a.order_id || ''), h('td', null, a.code || ''), h('td', null, a.ok ? '✔' : '✖ ' + (a.reason || ''))))));
    };
    setTab(k, h('div', {class: 'row'}, h('div', {class: 'grow'}, order), h('div', {class: 'grow'}, op), h('button', {class: 'btn', id: 'au-go', onclick: search}, t('search'))), out);
    search();
  }
}

route();
})();
