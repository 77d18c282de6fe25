/* The fleet overview: one tile per node with its status colour, last p, t
 * and v (each coloured by its own thresholds: the "why" of a red tile),
 * the time since its last reading (ticking), readings per second and open
 * gaps; a node silent for longer than the server's silent_after is grey,
 * striped and says SILENT.  /api/nodes once and every 15 s to resync;
 * between, readings arrive on the event stream and are drawn at the next
 * animation frame.  With a thousand nodes only the tiles on screen are
 * drawn (an IntersectionObserver says which); the others are brought up
 * to date when they scroll into view, and the summary counts them all
 * from the data. */
'use strict';

(function () {
	const RESYNC_MS = 15000;
	const RATE_WINDOW_MS = 10000;
	const tilesEl = document.getElementById('tiles');
	const summaryEl = document.getElementById('summary');
	const errorEl = document.getElementById('error');
	const nodes = new Map();
	/* Node names in tile order (sorted). */
	const order = [];
	const dirty = new Set();
	const openedAt = Date.now();
	let silentAfter = 10;
	let thresholds = {};
	let frame = 0;
	/* The header's active alarms (common.js) by node. */
	let alarmsByNode = new Map();
	const SEV = ['info', 'warn', 'crit'];

	const fields = [
		{ key: 'p', unit: 'bar', digits: 2 },
		{ key: 't', unit: '°C', digits: 1 },
		{ key: 'v', unit: 'mm/s', digits: 2 },
	];

	function makeTile(name) {
		const tile = wgu.el('a', 'tile');
		tile.href = '/node/' + encodeURIComponent(name);
		tile.dataset.node = name;
		const head = wgu.el('div', 'head');
		head.append(wgu.el('span', 'name', name));
		const state = wgu.el('span', 'state', '…');
		head.append(state);
		const values = wgu.el('div', 'values');
		const valueEls = {};
		fields.forEach(function (f) {
			const span = wgu.el('span', 'val ' + f.key);
			span.title = f.key;
			const number = wgu.el('span', 'n', '–');
			span.append(number, wgu.el('span', 'u', f.unit));
			values.append(span);
			valueEls[f.key] = number;
		});
		const meta = wgu.el('div', 'meta');
		const age = wgu.el('span', 'age', '');
		const rate = wgu.el('span', 'rate', '');
		const gaps = wgu.el('span', 'gaps', '');
		meta.append(age, rate, gaps);
		const alarms = wgu.el('div', 'alarms');
		tile.append(head, values, meta, alarms);
		return { tile: tile, state: state, values: valueEls, age: age,
		    rate: rate, gaps: gaps, alarms: alarms };
	}

	/* Whether a tile is on screen: only those are drawn. */
	const observer = new IntersectionObserver(function (entries) {
		entries.forEach(function (e) {
			const n = nodes.get(e.target.dataset.node);
			if (!n)
				return;
			n.visible = e.isIntersecting;
			if (n.visible && n.stale)
				render(n);
		});
	}, { rootMargin: '200px' });

	/* The node's entry, with its tile placed in name order. */
	function entry(name) {
		let n = nodes.get(name);
		if (n)
			return n;
		n = { name: name, data: {}, arrivals: [], serverSilent: false,
		    alarmKey: null, visible: false, stale: true,
		    ui: makeTile(name) };
		nodes.set(name, n);
		let lo = 0, hi = order.length;
		while (lo < hi) {
			const mid = (lo + hi) >> 1;
			if (order[mid] < name)
				lo = mid + 1;
			else
				hi = mid;
		}
		tilesEl.insertBefore(n.ui.tile, tilesEl.children[lo] || null);
		order.splice(lo, 0, name);
		observer.observe(n.ui.tile);
		renderAlarms(n);
		return n;
	}

	function ageOf(n) {
		if (typeof n.data.received !== 'number')
			return null;
		return (wgu.serverNow() - n.data.received) / 1000;
	}

	function isSilent(n) {
		const age = ageOf(n);
		return n.serverSilent || age === null || age > silentAfter;
	}

	function trimArrivals(n) {
		const cut = Date.now() - RATE_WINDOW_MS;
		while (n.arrivals.length && n.arrivals[0] < cut)
			n.arrivals.shift();
	}

	function rateOf(n) {
		trimArrivals(n);
		if (Date.now() - openedAt < RATE_WINDOW_MS)
			return n.data.rate;
		return n.arrivals.length / (RATE_WINDOW_MS / 1000);
	}

	function renderAge(n) {
		const age = ageOf(n);
		const silent = isSilent(n);
		n.ui.age.textContent = age === null ? 'no reading yet' :
		    (silent ? 'silent ' : '') + wgu.duration(age) + ' ago';
		const r = rateOf(n);
		n.ui.rate.textContent = typeof r === 'number' ?
		    r.toFixed(1) + '/s' : '';
		const tile = n.ui.tile;
		if (tile.classList.contains('silent') !== silent) {
			tile.classList.toggle('silent', silent);
			renderState(n);
		}
	}

	function renderState(n) {
		const d = n.data;
		const status = typeof d.status === 'number' ? d.status : 0;
		const tile = n.ui.tile;
		tile.classList.toggle('s1', status === 1);
		tile.classList.toggle('s2', status === 2);
		let label = wgu.severityName[status] || 'status ' + status;
		const why = fields.filter(function (f) {
			return wgu.severity(thresholds, f.key, d[f.key]) > 0;
		}).map(function (f) {
			return f.key;
		});
		if (status > 0 && why.length)
			label += ' · ' + why.join(' ');
		if (tile.classList.contains('silent'))
			label = 'silent';
		n.ui.state.textContent = label.toUpperCase();
	}

	/* The tile from n.data; later, when the tile is off screen. */
	function render(n) {
		if (!n.visible) {
			n.stale = true;
			return;
		}
		n.stale = false;
		const d = n.data;
		fields.forEach(function (f) {
			const e = n.ui.values[f.key];
			e.textContent = wgu.num(d[f.key], f.digits);
			const sev = wgu.severity(thresholds, f.key, d[f.key]);
			e.className = 'n' + (sev ? ' v' + sev : '');
		});
		const g = typeof d.gaps_open === 'number' ? d.gaps_open : 0;
		n.ui.gaps.textContent = g + (g === 1 ? ' gap open' : ' gaps open');
		n.ui.gaps.classList.toggle('open', g > 0);
		renderAge(n);
		renderState(n);
	}

	function renderSummary() {
		const count = [0, 0, 0];
		let silent = 0;
		nodes.forEach(function (n) {
			if (isSilent(n))
				silent++;
			else
				count[Math.min(Math.max(n.data.status | 0, 0), 2)]++;
		});
		summaryEl.replaceChildren();
		const add = function (value, text, cls) {
			const s = wgu.el('span', cls);
			s.append(wgu.el('b', null, String(value)), text);
			summaryEl.append(s);
		};
		add(nodes.size, nodes.size === 1 ? 'node' : 'nodes', 'all');
		add(count[0], 'normal', 'sum-normal');
		add(count[1], 'warning', 'sum-warning');
		add(count[2], 'critical', 'sum-critical');
		add(silent, 'silent', 'sum-silent');
	}

	function flush() {
		frame = 0;
		dirty.forEach(render);
		dirty.clear();
	}

	function schedule(n) {
		dirty.add(n);
		if (!frame)
			frame = requestAnimationFrame(flush);
	}

	async function resync() {
		try {
			const body = await wgu.api('/api/nodes');
			wgu.setServerNow(body.now);
			if (typeof body.silent_after === 'number')
				silentAfter = body.silent_after;
			(body.nodes || []).forEach(function (d) {
				const n = entry(d.node);
				/* A reading from the stream may be newer than
				 * the list. */
				if (typeof n.data.received === 'number' &&
				    n.data.received > d.received) {
					n.data.gaps_open = d.gaps_open;
					n.data.rate = d.rate;
				} else {
					n.data = d;
					n.serverSilent = !!d.silent;
				}
				render(n);
			});
			renderSummary();
			errorEl.textContent = '';
		} catch (e) {
			errorEl.textContent = 'Node list: ' + e.message;
		}
	}

	wgu.onReading(function (r) {
		if (!r.node)
			return;
		const n = entry(r.node);
		const keep = { gaps_open: n.data.gaps_open, rate: n.data.rate };
		n.data = Object.assign(keep, r);
		n.serverSilent = false;
		n.arrivals.push(Date.now());
		trimArrivals(n);
		schedule(n);
	});

	/* Each tile lists its node's active alarms: what is wrong, even when
	 * the latest reading is back to normal (an alarm clears only after
	 * a while of normal readings). */
	function renderAlarms(n) {
		const list = alarmsByNode.get(n.name) || [];
		const key = list.map(function (a) {
			return a.id + ':' + a.severity + ':' + (a.acked_by ? 1 : 0);
		}).join(',');
		if (key === n.alarmKey)
			return;
		n.alarmKey = key;
		n.ui.alarms.replaceChildren.apply(n.ui.alarms, list.map(function (a) {
			const sev = Math.min(Math.max(a.severity | 0, 0), 2);
			const chip = wgu.el('span', 'chip c' + sev +
			    (a.acked_by ? ' acked' : ''),
			    (a.field || a.kind) + ' ' + SEV[sev]);
			chip.title = a.kind + (a.detail ? ': ' + a.detail : '') +
			    (a.acked_by ? ' (acknowledged by ' + a.acked_by + ')' : '');
			return chip;
		}));
	}

	wgu.onAlarmsChanged(function (active) {
		alarmsByNode = new Map();
		active.forEach(function (a) {
			if (!alarmsByNode.has(a.node))
				alarmsByNode.set(a.node, []);
			alarmsByNode.get(a.node).push(a);
		});
		alarmsByNode.forEach(function (list) {
			list.sort(function (x, y) {
				return (y.severity - x.severity) ||
				    String(x.field).localeCompare(String(y.field));
			});
		});
		nodes.forEach(renderAlarms);
	});

	wgu.header();
	wgu.thresholds().then(function (th) {
		thresholds = th || {};
		nodes.forEach(render);
	});
	resync();
	setInterval(resync, RESYNC_MS);
	setInterval(function () {
		nodes.forEach(function (n) {
			if (n.visible)
				renderAge(n);
		});
		renderSummary();
	}, 1000);
})();
