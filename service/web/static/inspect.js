'use strict';
// The inspection form's offline queue. A submission is first stored on the
// phone (IndexedDB, with a copy of its photos) under an Idempotency-Key made
// once for it; only then does the sender try the network. The sender works
// through the queue in order and keeps a record until the server has answered
// it, so a resend after a dropped connection is recognised by the server and
// never counted twice. The login is the page's session cookie (HttpOnly: no
// script ever sees it); each request carries the page's CSRF token.
//
// A record is sent only under the account that made it: the server knows an
// Idempotency-Key per account, so a record whose answer was lost, resent by
// the next officer to sign in on a shared phone, would count twice. Records
// of another account wait on the phone until that account signs in again.
const $ = id => document.getElementById(id);
const say = m => { $('out').textContent = m; };
const csrf = () => $('csrf').value;
const me = {id: $('csrf').dataset.user || '', name: $('csrf').dataset.name || ''};
const mine = rec => !rec.owner || rec.owner === me.id; // (no owner: saved before owners were kept)

// Storage: one object store, records in submission order (auto-increment seq).
// A record: {seq, key, owner, ownerName, token, shop, body: {qr_token,
// inspected_at, items, note}, photos: [{blob, name} | {id}]}; a photo's blob
// gives way to its id once uploaded.
let dbp = null;
function openDB() {
  return dbp ||= new Promise((ok, fail) => {
    const r = indexedDB.open('menqian', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('queue', {keyPath: 'seq', autoIncrement: true});
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  }).catch(e => { dbp = null; throw e; });
}
async function store(mode, fn) { // fn(objectStore) → request; resolves when the transaction commits
  const db = await openDB();
  return new Promise((ok, fail) => {
    const tx = db.transaction('queue', mode), req = fn(tx.objectStore('queue'));
    tx.oncomplete = () => ok(req.result);
    tx.onerror = tx.onabort = () => fail(tx.error);
  });
}
const queued = () => store('readonly', s => s.getAll());
const firstMine = async () => (await queued()).find(mine);
const save = rec => store('readwrite', s => s.put(rec));
const remove = rec => store('readwrite', s => s.delete(rec.seq));

const newKey = () => crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + '-' +
  Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, '0')).join('');

// Results of the last records sent, kept across reloads.
const results = JSON.parse(localStorage.getItem('menqian_results') || '[]');
function result(text, bad) {
  results.unshift({text, bad});
  results.length = Math.min(results.length, 20);
  localStorage.setItem('menqian_results', JSON.stringify(results));
  say(text);
}

const label = rec => rec.shop || ('门牌码 ' + rec.token);
function li(text, cls) { const e = document.createElement('li'); e.textContent = text; if (cls) e.className = cls; return e; }
async function render() {
  let recs = [];
  try { recs = await queued(); } catch (e) { say('本机无法读取待发送记录：' + e); }
  const own = recs.filter(mine), others = recs.length - own.length;
  $('queue').textContent = '待发送 ' + own.length + ' 条' +
    (others ? '（另有其他账号的 ' + others + ' 条，须该账号登录后发送）' : '');
  $('waiting').replaceChildren(...recs.map(r => li(label(r) + ' · ' +
    new Date(r.body.inspected_at).toLocaleTimeString('zh-CN') + ' · ' + r.body.items.length + ' 项' +
    (r.photos.length ? '，照片 ' + r.photos.length + ' 张' : '') +
    (mine(r) ? '' : ' · ' + (r.ownerName || '其他账号') + ' 的记录，须其本人登录后发送'))));
  $('retryBtn').hidden = !own.length;
  $('log').replaceChildren(...results.map(r => li(r.text, r.bad ? 'warn' : '')));
}

let signedOut = false;
function needLogin() {
  signedOut = true;
  $('relogin').hidden = false;
  say('登录已失效，请重新登录；待发送的记录保存在本机，登录后自动发送');
}

// submit turns the form into a queued record, clears the form and starts the sender.
async function submit() {
  const at = new Date().toISOString(); // the time of the inspection, not of its sending
  const token = $('t').value.trim();
  const boxes = [...document.querySelectorAll('.item input[type=checkbox]:checked')];
  const items = boxes.map(c => ({rule_code: c.value, points: +c.closest('.item').querySelector('select').value}));
  const files = [...$('photo').files], note = $('note').value;
  const shopEl = $('shop'), shop = shopEl && !shopEl.classList.contains('warn') ? shopEl.querySelector('strong').textContent : '';
  if (!token) return say('请填写门牌码（扫码自动填入）');
  if (!items.length) return say('请至少选择一项巡查事项');
  if (boxes.some(c => c.dataset.kind !== 'bonus') && !files.length) return say('扣分必须上传现场照片');
  if (files.length > 9) return say('最多 9 张照片');
  $('sendBtn').disabled = true;
  try {
    // Copy the bytes now: the camera app may delete its file before we can send.
    const copies = await Promise.all(files.map(async f =>
      ({blob: new Blob([await f.arrayBuffer()], {type: f.type}), name: f.name || 'photo.jpg'})));
    // Then shrink them one at a time: a decoded camera photo takes up to 200 MB.
    if (copies.length) say('正在压缩照片…');
    const photos = [];
    for (const [i, ph] of copies.entries()) photos.push(await window.menqianShrink(ph, i + 1));
    if (photos.some(ph => ph.blob.size > 5 << 20)) return say('每张照片不能超过 5 MB');
    await save({key: newKey(), owner: me.id, ownerName: me.name, token, shop, photos,
      body: {qr_token: token, inspected_at: at, items, note}});
  } catch (e) {
    return say('记录未能保存在本机（' + e + '），请重试');
  } finally { $('sendBtn').disabled = false; }
  for (const c of boxes) c.checked = false;
  for (const s of document.querySelectorAll('.item select')) s.value = [...s.options].find(o => o.defaultSelected)?.value ?? s.value;
  $('t').value = $('photo').value = $('note').value = '';
  if (shopEl) shopEl.remove();
  if (location.search) history.replaceState(null, '', location.pathname); // a reload must not refill the shop
  say('已保存在本机，正在发送…');
  await render();
  flush();
}

// api sends one request with the session; it throws only when no answer came.
async function api(path, init) {
  init.headers = Object.assign({'X-CSRF-Token': csrf()}, init.headers);
  init.credentials = 'same-origin';
  const r = await fetch(path, init);
  return {status: r.status, body: await r.json().catch(() => ({}))};
}

// settle acts on the server's answer to a record; true: go on with the next one.
async function settle(rec, a, what) {
  const s = a.status;
  if (s === 401 || (s === 403 && a.body.error && a.body.error.code === 'forbidden' && /过期/.test(a.body.error.message))) {
    needLogin(); // the session ended (or this page is from an older one): keep the record
    return false;
  }
  if (s >= 500 || s === 408 || s === 429) {
    say('服务器暂时无法处理（' + s + '），记录保存在本机，稍后自动重发');
    return false;
  }
  await remove(rec);
  const j = a.body;
  if (s < 300) {
    result((j.shop || label(rec)) + '：已记录' + (j.delta === undefined ? '' : ' ' + (j.delta > 0 ? '+' : '') + j.delta +
      ' 分，本月积分 ' + j.score + ' 分，星级 ' + j.rated_star + ' 星'));
  } else { // refused: resending cannot help, the officer redoes it
    const e = j.error || {message: '请求被拒绝（' + s + '）'};
    result(label(rec) + '：' + what + '，' + e.message +
      (e.fields ? '（' + Object.entries(e.fields).map(f => f.join('：')).join('；') + '）' : '') + '。请重新录入', true);
  }
  return true;
}

// sendOne uploads the record's photos not yet uploaded, remembering each id in
// the stored record, then posts the inspection with the record's key.
async function sendOne(rec) {
  try {
    for (const ph of rec.photos) {
      if (ph.id) continue;
      const fd = new FormData(); fd.append('file', ph.blob, ph.name);
      const a = await api('/inspect/photos', {method: 'POST', body: fd});
      if (a.status >= 300 || !a.body.id) return settle(rec, a, '照片上传失败，未记录');
      ph.id = a.body.id; delete ph.blob;
      await save(rec);
    }
    const a = await api('/inspect/records', {method: 'POST', headers: {'Content-Type': 'application/json',
      'Idempotency-Key': rec.key}, body: JSON.stringify({...rec.body, photos: rec.photos.map(p => p.id)})});
    return settle(rec, a, '未记录');
  } catch (e) {
    say('网络不通，记录保存在本机，网络恢复后自动发送（不会重复计分）');
    return false;
  }
}

// flush runs the sender; a call while it runs makes it look at the queue once more.
let busy = false, again = false;
async function flush() {
  if (signedOut) return;
  if (busy) { again = true; return; }
  busy = true;
  try {
    do {
      again = false;
      const run = async () => {
        for (let rec; (rec = await firstMine()); ) {
          if (!await sendOne(rec)) return;
        }
      };
      // One sender across tabs of this phone, where the browser can tell.
      await (navigator.locks ? navigator.locks.request('menqian_send', {ifAvailable: true}, l => l && run()) : run());
    } while (again);
  } catch (e) {
    say('发送出错：' + e);
  } finally { busy = false; await render(); }
}

// A record left by the earlier one-record page (localStorage) joins the queue
// as the signed-in account's; the login that page kept is no longer used
// (the session cookie is).
async function adopt() {
  localStorage.removeItem('menqian_token');
  try {
    const old = JSON.parse(localStorage.getItem('menqian_pending') || 'null');
    if (!old) return;
    const {photos = [], ...body} = old.body;
    await save({key: old.key, owner: me.id, ownerName: me.name, token: body.qr_token, photos: photos.map(id => ({id})), body});
    localStorage.removeItem('menqian_pending');
  } catch (e) { say('旧的待发送记录未能读取：' + e); }
}

$('sendBtn').addEventListener('click', submit);
$('retryBtn').addEventListener('click', flush);
addEventListener('online', flush);
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') flush(); });
setInterval(flush, 30000);
adopt().then(render).then(flush);
