/* The tunnel page: the hub's WireGuard peers from /api/tunnel (its UAPI):
 * endpoint, time since the latest handshake (ticking; amber after 2 min,
 * red after 3 min, when the handshake alarm fires), bytes each way, and
 * wgu's drop counters by reason.  Counters are not readings: the page
 * reloads them every 5 s. */
'use strict';

(function () {
	const errorEl = document.getElementById('error');
	const peersBody = document.querySelector('#peers tbody');
	const dropsBody = document.querySelector('#drops tbody');
	const STALE_S = 180;
	const AGING_S = 120;
	let ages = [];

	function renderAge(a) {
		if (!a.latest) {
			a.cell.textContent = 'never';
			a.cell.className = 'age stale';
			return;
		}
		const age = (wgu.serverNow() - a.latest * 1000) / 1000;
		a.cell.textContent = wgu.duration(age) + ' ago';
		a.cell.className = 'age' + (age > STALE_S ? ' stale' :
		    age > AGING_S ? ' aging' : '');
	}

	function peerRow(p) {
		const tr = wgu.el('tr', 'peer');
		const key = wgu.el('td', 'key', p.public_key);
		const age = wgu.el('td', 'age');
		tr.append(key, wgu.el('td', 'endpoint key', p.endpoint || '(none)'),
		    age, wgu.el('td', 'num rx', wgu.bytes(p.rx_bytes)),
		    wgu.el('td', 'num tx', wgu.bytes(p.tx_bytes)));
		tr.children[3].title = p.rx_bytes + ' bytes';
		tr.children[4].title = p.tx_bytes + ' bytes';
		ages.push({ cell: age, latest: p.latest_handshake });
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
			const body = await wgu.api('/api/tunnel');
			document.getElementById('iface').textContent =
			    body.interface ? 'interface ' + body.interface : '';
			ages = [];
			const peers = body.peers || [];
			if (peers.length)
				peersBody.replaceChildren.apply(peersBody, peers.map(peerRow));
			else
				empty(peersBody, 5, 'No peers.');
			ages.forEach(renderAge);
			const drops = Object.entries(body.drops || {});
			if (drops.length)
				dropsBody.replaceChildren.apply(dropsBody, drops.map(function (d) {
					const tr = wgu.el('tr', 'drop');
					tr.append(wgu.el('td', 'reason', d[0]),
					    wgu.el('td', 'num count', String(d[1])));
					tr.classList.toggle('sev1', d[1] > 0);
					return tr;
				}));
			else
				empty(dropsBody, 2, 'No drop counters.');
			errorEl.textContent = '';
		} catch (e) {
			errorEl.textContent = 'Tunnel: ' + e.message;
		}
	}

	wgu.header();
	wgu.syncClock();
	reload();
	setInterval(reload, 5000);
	setInterval(function () {
		ages.forEach(renderAge);
	}, 1000);
})();
