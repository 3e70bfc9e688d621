// The Playground's chat page: one pane per simulated user, polling the Telegram stand-in.
'use strict';

let USERS = [];
const panes = [];

const $ = (root, sel) => root.querySelector(sel);
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

async function post(path, body, raw) {
  const r = await fetch(path, {method: 'POST', body: raw ? body : JSON.stringify(body || {})});
  const j = await r.json().catch(() => ({ok: false, error: 'HTTP ' + r.status}));
  if (!j.ok) throw new Error(j.error || 'failed');
  return j.result;
}

function showModal(text) {
  $(document, '#modal-text').textContent = text;
  $(document, '#modal').classList.remove('hidden');
}
$(document, '#modal-ok').onclick = () => $(document, '#modal').classList.add('hidden');

function toast(pane, text) {
  const t = el('div', 'toast', text);
  $(pane.root, '.toasts').appendChild(t);
  setTimeout(() => t.remove(), 3500);
}

function time(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
}

function size(n) {
  return n > 1048576 ? (n / 1048576).toFixed(1) + ' MB' : Math.max(1, Math.round(n / 1024)) + ' KB';
}

function largest(photo) {
  return photo[photo.length - 1].file_id;
}

function keyboard(pane, msg) {
  const rows = (msg.reply_markup || {}).inline_keyboard;
  if (!rows) return null;
  const kb = el('div', 'kb');
  for (const row of rows) {
    const r = el('div', 'row');
    for (const b of row) {
      if (b.url) {
        const a = el('a', 'url', b.text + ' ↗');
        a.href = b.url;
        a.target = '_blank';
        r.appendChild(a);
      } else {
        const btn = el('button', 'cb', b.text);
        btn.dataset.data = b.callback_data || '';
        btn.onclick = () => press(pane, msg.message_id, btn);
        r.appendChild(btn);
      }
    }
    kb.appendChild(r);
  }
  return kb;
}

async function press(pane, messageId, btn) {
  btn.classList.add('busy');
  try {
    await post('/api/press?user=' + pane.user, {message_id: messageId, data: btn.dataset.data});
  } catch (e) {
    toast(pane, e.message);
  } finally {
    btn.classList.remove('busy');
  }
}

function body(pane, msg, bubble) {
  if (msg.photo) {
    const img = el('img');
    img.onload = () => stick(pane);
    img.src = '/file/' + encodeURIComponent(largest(msg.photo));
    img.alt = 'photo';
    bubble.appendChild(img);
  }
  if (msg.document) {
    const d = el('div', 'doc');
    d.appendChild(el('div', 'icon', '📄'));
    const info = el('div');
    const a = el('a', '', msg.document.file_name || 'file');
    a.href = '/file/' + encodeURIComponent(msg.document.file_id);
    a.target = '_blank';
    info.appendChild(a);
    info.appendChild(el('div', 'size', size(msg.document.file_size || 0)));
    d.appendChild(info);
    bubble.appendChild(d);
  }
  if (msg.invoice) bubble.appendChild(invoice(pane, msg));
  const text = msg.text || msg.caption;
  if (text) bubble.appendChild(el('div', 'text', text));
}

function invoice(pane, msg) {
  const inv = msg.invoice;
  const box = el('div', 'invoice');
  box.appendChild(el('b', '', inv.title));
  box.appendChild(el('div', '', inv.description));
  const stars = inv.currency === 'XTR';
  box.appendChild(el('div', 'total', stars ? inv.total_amount + ' ⭐' : inv.total_amount + ' ' + inv.currency));
  const pay = el('button', 'pay-stars', stars ? 'Pay ⭐' + inv.total_amount : 'Pay');
  pay.onclick = async () => {
    pay.disabled = true;
    try {
      await post('/api/pay_stars?user=' + pane.user, {message_id: msg.message_id});
    } catch (e) {
      showModal(e.message);
    } finally {
      pay.disabled = false;
    }
  };
  box.appendChild(pay);
  return box;
}

function render(pane, item) {
  const msgs = item.msgs;
  const first = msgs[0];
  const wrap = el('div', 'item');
  wrap.style.display = 'contents';
  if (first.successful_payment) {
    const p = first.successful_payment;
    const unit = p.currency === 'XTR' ? ' ⭐' : ' ' + p.currency;
    wrap.appendChild(el('div', 'msg service', 'You paid ' + p.total_amount + unit));
    return wrap;
  }
  const mine = first.from && first.from.id === pane.user;
  const bubble = el('div', 'msg ' + (mine ? 'user' : 'bot'));
  bubble.dataset.id = first.message_id;
  if (msgs.length > 1) {
    const grid = el('div', 'album-grid');
    msgs.forEach(m => body(pane, m, grid));
    bubble.appendChild(grid);
  } else {
    body(pane, first, bubble);
  }
  const last = msgs[msgs.length - 1];
  bubble.appendChild(el('div', 'meta', (last.edit_date ? 'edited ' : '') + time(last.date)));
  wrap.appendChild(bubble);
  const kb = keyboard(pane, first);
  if (kb) wrap.appendChild(kb);
  return wrap;
}

// Consecutive messages of one album make one bubble, as in Telegram.
function group(messages) {
  const items = [];
  for (const m of messages) {
    const prev = items[items.length - 1];
    if (m.media_group_id && prev && prev.group === m.media_group_id) prev.msgs.push(m);
    else items.push({group: m.media_group_id, msgs: [m]});
  }
  items.forEach(i => (i.key = JSON.stringify(i.msgs)));
  return items;
}

// Keeps the newest message in view unless the user scrolled up to read.
function stick(pane) {
  const box = $(pane.root, '.messages');
  if (pane.atBottom) box.scrollTop = box.scrollHeight;
}

function update(pane, state) {
  const box = $(pane.root, '.messages');
  const items = group(state.messages);
  const old = pane.items;
  let changed = items.length !== old.length;
  items.forEach((item, i) => {
    if (old[i] && old[i].key === item.key) {
      item.node = old[i].node;
      return;
    }
    changed = true;
    item.node = render(pane, item);
    if (old[i]) box.replaceChild(item.node, old[i].node);
    else box.insertBefore(item.node, pane.pending);
  });
  old.slice(items.length).forEach(o => o.node.remove());
  pane.items = items;
  if (changed) stick(pane);
  for (const t of state.toasts) {
    if (pane.seen.has(t.id)) continue;
    pane.seen.add(t.id);
    if (t.show_alert) showModal(t.text);
    else toast(pane, t.text);
  }
  pane.commands = state.commands || [];
}

async function poll(pane) {
  if (pane.closed) return;
  try {
    const r = await fetch('/api/chat?user=' + pane.user);
    if (r.ok) update(pane, await r.json());
  } catch (e) {
    // the playground is restarting or stopped: keep trying
  }
  setTimeout(() => poll(pane), 400);
}

async function send(pane, text) {
  try {
    await post('/api/send?user=' + pane.user, {text});
  } catch (e) {
    toast(pane, e.message);
  }
}

async function upload(pane, files) {
  const album = files.length > 1 ? 'album' + Date.now() : '';
  pane.pending.textContent = 'uploading ' + files.length + ' file(s)…';
  pane.pending.classList.remove('hidden');
  for (const f of files) {
    const q = new URLSearchParams({user: pane.user, name: f.name, mime: f.type, album, count: files.length});
    try {
      await post('/api/upload?' + q, f, true);
    } catch (e) {
      toast(pane, f.name + ': ' + e.message);
    }
  }
  pane.pending.classList.add('hidden');
}

function toggleCommands(pane) {
  const list = $(pane.root, '.commands');
  if (!list.classList.contains('hidden')) return list.classList.add('hidden');
  list.innerHTML = '';
  for (const c of pane.commands) {
    const row = el('div', 'cmd');
    row.appendChild(el('b', '', '/' + c.command));
    row.appendChild(document.createTextNode(c.description));
    row.onclick = () => {
      list.classList.add('hidden');
      send(pane, '/' + c.command);
    };
    list.appendChild(row);
  }
  if (!pane.commands.length) list.appendChild(el('div', '', 'No commands set'));
  list.classList.remove('hidden');
}

function setUser(pane, id) {
  pane.user = id;
  pane.root.dataset.user = id;
  pane.items.forEach(i => i.node.remove());
  pane.items = [];
  pane.seen = new Set();
  const u = USERS.find(x => x.id === id);
  $(pane.root, '.text').placeholder = u && u.lang === 'ru' ? 'Сообщение' : 'Message';
}

function addPane(userId) {
  const root = $(document, '#pane-template').content.firstElementChild.cloneNode(true);
  const pane = {root, items: [], seen: new Set(), commands: [], atBottom: true, pending: el('div', 'uploading hidden')};
  const box = $(root, '.messages');
  box.appendChild(pane.pending);
  box.onscroll = () => (pane.atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80);
  const select = $(root, '.user');
  for (const u of USERS) {
    const o = el('option', '', u.name + (u.admin ? ' (admin)' : '') + ' · ' + u.lang);
    o.value = u.id;
    select.appendChild(o);
  }
  select.value = userId;
  select.onchange = () => setUser(pane, Number(select.value));
  setUser(pane, userId);
  const input = $(root, '.text');
  $(root, '.composer').onsubmit = ev => {
    ev.preventDefault();
    const text = input.value;
    input.value = '';
    if (text.trim()) send(pane, text);
  };
  $(root, '.menu').onclick = () => toggleCommands(pane);
  const file = $(root, '.file');
  file.onchange = () => {
    const files = Array.from(file.files);
    file.value = '';
    if (files.length) upload(pane, files);
  };
  $(root, '.close').onclick = () => {
    pane.closed = true;
    root.remove();
  };
  $(document, '#panes').appendChild(root);
  panes.push(pane);
  poll(pane);
}

// The operator console's link and sign-in, in the header.
function showConsole(c) {
  if (!c) return;
  const box = $(document, '#console');
  $(box, 'a').href = c.url;
  $(box, '#console-name').textContent = c.name;
  $(box, '#console-password').textContent = c.password;
  box.classList.remove('hidden');
}

async function main() {
  const info = await (await fetch('/api/info')).json();
  USERS = info.users;
  $(document, '#banner').textContent = info.banner;
  showConsole(info.console);
  const wanted = new URLSearchParams(location.search).get('users');
  const ids = wanted
    ? wanted.split(',').map(Number)
    : [USERS.find(u => u.admin), USERS.find(u => !u.admin)].filter(Boolean).map(u => u.id);
  ids.forEach(addPane);
  $(document, '#add-pane').onclick = () => addPane(USERS[panes.length % USERS.length].id);
}

main();
