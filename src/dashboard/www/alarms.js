/* The alarms page: the active alarms (oldest first, durations ticking)
 * with an Acknowledge button for operators, and the alarms of the last
 * 24 h.  Reloaded whenever the event stream reports an alarm, and every
 * 20 s.  The button posts /api/alarms/ID/ack with the session's CSRF
 * token; viewers don't get it (and the server refuses them anyway). */
'use strict';

(function () {
	const errorEl = document.getElementById('error');
	const activeBody = document.querySelector('#active tbody');
	const recentBody = document.querySelector('#recent tbody');
	const SEVERITY = ['info', 'warning', 'critical'];
	let role = 'viewer';
	let timer = 0;
	/* Duration cells of active alarms, with their start: ticked. */
	let ticking = [];

	function sevClass(a) {
		return 'sev' + Math.min(Math.max(a.severity | 0, 0), 2);
	}

	/* A handshake alarm's node is the peer's public key: shortened. */
	function nodeCell(a) {
		const td = wgu.el('td', 'node');
		if (a.kind === 'handshake' || (a.node && a.node.length > 40)) {
			td.textContent = 'peer ' + String(a.node).slice(0, 10) + '…';
			td.title = a.node;
			td.classList.add('key');
		} else {
			const link = wgu.el('a', null, a.node);
			link.href = '/node/' + encodeURIComponent(a.node);
			td.append(link);
		}
		return td;
	}

	function peak(a) {
		return typeof a.peak === 'number' ? wgu.num(a.peak) : '–';
	}

	function ackCell(a) {
		return wgu.el('td', 'acked', a.acked_by ?
		    a.acked_by + ' at ' + wgu.time(a.acked_at) : 'no');
	}

	async function acknowledge(a, button) {
		button.disabled = true;
		try {
			await wgu.post('/api/alarms/' + encodeURIComponent(a.id) + '/ack');
			errorEl.textContent = '';
			reload();
		} catch (e) {
			errorEl.textContent = 'Acknowledge alarm ' + a.id + ': ' + e.message;
			button.disabled = false;
		}
	}

	function row(a, withEnd) {
		const tr = wgu.el('tr', sevClass(a));
		tr.dataset.id = a.id;
		const sev = a.severity | 0;
		tr.append(wgu.el('td', 'sev s' + sev, SEVERITY[sev] || String(sev)),
		    wgu.el('td', 'kind', a.kind), nodeCell(a),
		    wgu.el('td', 'field', a.field || '–'),
		    wgu.el('td', 'start', wgu.time(a.start)));
		if (withEnd)
			tr.append(wgu.el('td', 'end', a.end ? wgu.time(a.end) : 'active'));
		const dur = wgu.el('td', 'num duration');
		if (a.end) {
			dur.textContent = wgu.duration((a.end - a.start) / 1000);
		} else {
			ticking.push({ cell: dur, start: a.start });
			dur.textContent = wgu.duration((wgu.serverNow() - a.start) / 1000);
		}
		tr.append(dur, wgu.el('td', 'num peak', peak(a)),
		    wgu.el('td', 'detail', a.detail || ''), ackCell(a));
		if (!a.end)
			tr.classList.add('active');
		else
			tr.classList.add('ended');
		return tr;
	}

	function activeRow(a) {
		const tr = row(a, false);
		const td = wgu.el('td', 'action');
		if (role === 'operator' && !a.acked_by) {
			const b = wgu.el('button', 'primary ack', 'Acknowledge');
			b.type = 'button';
			b.addEventListener('click', function () {
				acknowledge(a, b);
			});
			td.append(b);
		}
		tr.append(td);
		return tr;
	}

	function empty(body, cols, text) {
		const tr = wgu.el('tr');
		const td = wgu.el('td', 'empty', text);
		td.colSpan = cols;
		tr.append(td);
		body.replaceChildren(tr);
	}

	async function reload() {
		try {
			const [act, all] = await Promise.all([
				wgu.api('/api/alarms?state=active'),
				wgu.api('/api/alarms?state=all&from=-24h&to=now'),
			]);
			ticking = [];
			const a = (act.alarms || []).slice().sort(function (x, y) {
				return (y.severity - x.severity) || (x.start - y.start);
			});
			if (a.length)
				activeBody.replaceChildren.apply(activeBody, a.map(activeRow));
			else
				empty(activeBody, 10, 'No active alarms.');
			const r = (all.alarms || []).slice().sort(function (x, y) {
				return y.start - x.start;
			});
			if (r.length)
				recentBody.replaceChildren.apply(recentBody, r.map(function (x) {
					return row(x, true);
				}));
			else
				empty(recentBody, 10, 'No alarms in the last 24 h.');
			errorEl.textContent = '';
		} catch (e) {
			errorEl.textContent = 'Alarms: ' + e.message;
		}
	}

	/* Alarms come in bursts (one per field): one reload for a burst. */
	function reloadSoon() {
		if (timer)
			return;
		timer = setTimeout(function () {
			timer = 0;
			reload();
		}, 300);
	}

	wgu.header();
	wgu.onAlarm(reloadSoon);
	wgu.session().then(function (s) {
		role = s.role;
		reload();
	}, function () {});
	setInterval(reload, 20000);
	setInterval(function () {
		const now = wgu.serverNow();
		ticking.forEach(function (t) {
			t.cell.textContent = wgu.duration((now - t.start) / 1000);
		});
	}, 1000);
	wgu.syncClock();
})();
