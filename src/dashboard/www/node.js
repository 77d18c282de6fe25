/* One node: its live values and state, and a chart per field (p, t, v)
 * of its history from /api/history — the average as a line, the min..max
 * of each aggregation step as a band, the warning and critical thresholds
 * of /api/thresholds as dashed lines.  The range picker chooses the last
 * 15 min, 1 h, 6 h, 24 h or a custom interval; a last-N range slides with
 * the clock and takes the node's readings from the event stream (folded
 * into the server's aggregation step, so a chart keeps about as many
 * points as the server sent).  The CSV link downloads what is shown.
 * Chart.js 3.9.1 (the UMD build, global Chart) from /static/chart.js;
 * a linear x axis of ms since the epoch, so no date adapter is needed. */
'use strict';

(function () {
	const name = decodeURIComponent(
	    window.location.pathname.replace(/^\/node\//, '').replace(/\/$/, ''));
	const errorEl = document.getElementById('error');
	const stateEl = document.getElementById('node-state');
	const ageEl = document.getElementById('node-age');
	const noteEl = document.getElementById('range-note');
	const RANGES = { '15m': 15 * 60e3, '1h': 3600e3, '6h': 6 * 3600e3,
	    '24h': 24 * 3600e3 };
	const FIELDS = [
		{ key: 'p', color: '#4aa3ff', digits: 2 },
		{ key: 't', color: '#c792ea', digits: 1 },
		{ key: 'v', color: '#5fd7c7', digits: 2 },
	];
	const WARN = '#f5a623';
	const CRIT = '#ff3b3b';

	/* { relative: ms } or { from: ms, to: ms } */
	let range = { relative: RANGES['15m'] };
	let step = 0;
	let thresholds = {};
	let last = null;
	let silentAfter = 10;
	let loadSeq = 0;
	let frame = 0;
	/* Readings that arrive while a history request is out: folded in
	 * once it is back. */
	let pending = null;
	const charts = {};

	document.title = name + ' · wgu';
	document.getElementById('node-name').textContent = name;

	Chart.defaults.color = '#8b98a5';
	Chart.defaults.borderColor = '#2f3a46';
	Chart.defaults.font.family = '"DejaVu Sans", "Liberation Sans", Arial, sans-serif';

	function pad(n) {
		return String(n).padStart(2, '0');
	}

	function tick(value) {
		const d = new Date(value);
		const span = charts.p ? charts.p.options.scales.x.max -
		    charts.p.options.scales.x.min : 0;
		const hm = pad(d.getHours()) + ':' + pad(d.getMinutes());
		if (span > 36 * 3600e3)
			return pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + hm;
		if (span > 2 * 3600e3)
			return hm;
		return hm + ':' + pad(d.getSeconds());
	}

	/* Dashed horizontal lines at the field's warning and critical
	 * values, labelled at the right end. */
	function thresholdPlugin(field) {
		return {
			id: 'thresholds-' + field,
			afterDatasetsDraw: function (chart) {
				const th = thresholds[field];
				if (!th)
					return;
				const area = chart.chartArea;
				const y = chart.scales.y;
				const ctx = chart.ctx;
				[['warning', WARN], ['critical', CRIT]].forEach(function (l) {
					const value = th[l[0]];
					if (typeof value !== 'number')
						return;
					const py = y.getPixelForValue(value);
					if (py < area.top || py > area.bottom)
						return;
					ctx.save();
					ctx.strokeStyle = l[1];
					ctx.fillStyle = l[1];
					ctx.lineWidth = 1.5;
					ctx.setLineDash([6, 4]);
					ctx.beginPath();
					ctx.moveTo(area.left, py);
					ctx.lineTo(area.right, py);
					ctx.stroke();
					ctx.setLineDash([]);
					ctx.font = '12px sans-serif';
					ctx.textAlign = 'right';
					ctx.fillText(l[0] + ' ' + value, area.right - 4, py - 4);
					ctx.restore();
				});
			},
		};
	}

	function makeChart(f) {
		const canvas = document.getElementById('chart-' + f.key);
		const band = f.color + '33';
		return new Chart(canvas, {
			type: 'line',
			data: {
				datasets: [
					{ label: 'min', data: [], borderWidth: 0,
					    pointRadius: 0, borderColor: band },
					{ label: 'max', data: [], borderWidth: 0,
					    pointRadius: 0, borderColor: band,
					    backgroundColor: band, fill: '-1' },
					{ label: f.key, data: [], borderWidth: 1.5,
					    pointRadius: 0, borderColor: f.color },
				],
			},
			options: {
				animation: false,
				maintainAspectRatio: false,
				normalized: true,
				interaction: { mode: 'nearest', axis: 'x',
				    intersect: false },
				plugins: {
					legend: { display: false },
					tooltip: {
						filter: function (item) {
							return item.datasetIndex === 2;
						},
						callbacks: {
							title: function (items) {
								return items.length ?
								    wgu.time(items[0].parsed.x) : '';
							},
						},
					},
				},
				scales: {
					x: { type: 'linear', ticks: { callback: tick,
					    maxRotation: 0 },
					    afterBuildTicks: roundTicks },
					y: { type: 'linear' },
				},
			},
			plugins: [thresholdPlugin(f.key)],
		});
	}

	/* The y axis reaches the critical line, so the thresholds are always
	 * in view. */
	function fitThresholds() {
		FIELDS.forEach(function (f) {
			const th = thresholds[f.key];
			const y = charts[f.key].options.scales.y;
			if (th && typeof th.critical === 'number') {
				if (th.direction === 'below')
					y.suggestedMin = th.critical * 0.95;
				else
					y.suggestedMax = th.critical * 1.05;
			}
		});
	}

	function shownWindow() {
		if (range.relative) {
			const now = wgu.serverNow();
			return { from: now - range.relative, to: now };
		}
		return { from: range.from, to: range.to };
	}

	function setWindow() {
		const w = shownWindow();
		FIELDS.forEach(function (f) {
			const x = charts[f.key].options.scales.x;
			x.min = w.from;
			x.max = w.to;
			const ds = charts[f.key].data.datasets;
			/* A sliding window drops what left it. */
			while (ds[2].data.length && ds[2].data[0].x < w.from)
				ds.forEach(function (d) {
					d.data.shift();
				});
		});
	}

	/* A tick every round number of seconds, minutes or hours: about
	 * six across the window. */
	const STEPS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
	    7200, 10800, 21600, 43200, 86400].map(function (s) {
		return s * 1000;
	});

	function tickStep(span) {
		return STEPS.find(function (s) {
			return span / s <= 7;
		}) || STEPS[STEPS.length - 1];
	}

	/* Ticks on round times (whole minutes, hours...) rather than
	 * counted from the window's odd start. */
	function roundTicks(axis) {
		const step = tickStep(axis.max - axis.min);
		const ticks = [];
		for (let v = Math.ceil(axis.min / step) * step; v <= axis.max;
		    v += step)
			ticks.push({ value: v });
		axis.ticks = ticks;
	}

	function redraw() {
		frame = 0;
		setWindow();
		FIELDS.forEach(function (f) {
			charts[f.key].update('none');
		});
	}

	function scheduleRedraw() {
		if (!frame)
			frame = requestAnimationFrame(redraw);
	}

	/* A reading into the charts: a point of its own when the history is
	 * raw (step 0), else folded into the step it falls in. */
	function addPoint(r) {
		FIELDS.forEach(function (f) {
			const value = r[f.key];
			if (typeof value !== 'number')
				return;
			const ds = charts[f.key].data.datasets;
			const x = step > 0 ? Math.floor(r.ts / step) * step : r.ts;
			const n = ds[2].data.length;
			const lastPoint = n ? ds[2].data[n - 1] : null;
			if (lastPoint && lastPoint.x === x && step > 0) {
				const c = (lastPoint.count || 1) + 1;
				lastPoint.y += (value - lastPoint.y) / c;
				lastPoint.count = c;
				ds[0].data[n - 1].y = Math.min(ds[0].data[n - 1].y, value);
				ds[1].data[n - 1].y = Math.max(ds[1].data[n - 1].y, value);
			} else if (!lastPoint || x > lastPoint.x) {
				ds[0].data.push({ x: x, y: value });
				ds[1].data.push({ x: x, y: value });
				ds[2].data.push({ x: x, y: value, count: 1 });
			}
		});
	}

	function fill(series) {
		FIELDS.forEach(function (f) {
			const rows = (series && series[f.key]) || [];
			const ds = charts[f.key].data.datasets;
			ds[0].data = rows.map(function (r) {
				return { x: r[0], y: r[1] };
			});
			ds[1].data = rows.map(function (r) {
				return { x: r[0], y: r[3] };
			});
			ds[2].data = rows.map(function (r) {
				return { x: r[0], y: r[2], count: step > 0 ? 0 : 1 };
			});
		});
	}

	async function load() {
		const seq = ++loadSeq;
		const w = shownWindow();
		pending = [];
		noteEl.textContent = 'loading…';
		try {
			const body = await wgu.api('/api/history?node=' +
			    encodeURIComponent(name) + '&from=' + Math.floor(w.from) +
			    '&to=' + Math.ceil(w.to) + '&fields=p,t,v');
			if (seq !== loadSeq)
				return;
			step = typeof body.step_ms === 'number' ? body.step_ms : 0;
			fill(body.series);
			if (range.relative)
				pending.forEach(addPoint);
			pending = null;
			noteEl.textContent = step > 0 ?
			    'one point per ' + wgu.duration(step / 1000) +
			    ' (min–max band, average line)' : 'every reading';
			errorEl.textContent = '';
			redraw();
		} catch (e) {
			if (seq !== loadSeq)
				return;
			pending = null;
			noteEl.textContent = '';
			errorEl.textContent = 'History: ' + e.message;
		}
	}

	function renderNow() {
		if (!last)
			return;
		FIELDS.forEach(function (f) {
			const e = document.getElementById('now-' + f.key);
			e.textContent = wgu.num(last[f.key], f.digits);
			const sev = wgu.severity(thresholds, f.key, last[f.key]);
			e.className = sev ? 'v' + sev : '';
		});
		renderAge();
	}

	function renderAge() {
		if (!last || typeof last.received !== 'number') {
			stateEl.textContent = 'NO READING';
			stateEl.className = 'big-state silent';
			return;
		}
		const age = (wgu.serverNow() - last.received) / 1000;
		const silent = age > silentAfter;
		const status = last.status | 0;
		ageEl.textContent = 'last reading ' + wgu.duration(age) + ' ago';
		stateEl.textContent = silent ? 'SILENT' :
		    (wgu.severityName[status] || 'status ' + status).toUpperCase();
		stateEl.className = 'big-state ' + (silent ? 'silent' : 's' + status);
	}

	async function loadNode() {
		try {
			const body = await wgu.api('/api/nodes');
			wgu.setServerNow(body.now);
			if (typeof body.silent_after === 'number')
				silentAfter = body.silent_after;
			const d = (body.nodes || []).find(function (n) {
				return n.node === name;
			});
			if (!d) {
				errorEl.textContent = 'No node ' + name + ' in the store.';
				return;
			}
			if (!last || d.received >= last.received)
				last = d;
			renderNow();
		} catch (e) {
			errorEl.textContent = 'Node: ' + e.message;
		}
	}

	function selectRange(button) {
		document.querySelectorAll('#range button[data-range]').forEach(function (b) {
			b.classList.toggle('selected', b === button);
		});
	}

	function localInput(ms) {
		const d = new Date(ms);
		return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' +
		    pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' +
		    pad(d.getMinutes()) + ':' + pad(d.getSeconds());
	}

	document.querySelectorAll('#range button[data-range]').forEach(function (b) {
		b.addEventListener('click', function () {
			const custom = document.getElementById('custom');
			selectRange(b);
			if (b.dataset.range === 'custom') {
				const w = shownWindow();
				document.getElementById('custom-from').value = localInput(w.from);
				document.getElementById('custom-to').value = localInput(w.to);
				custom.classList.remove('hidden');
				return;
			}
			custom.classList.add('hidden');
			range = { relative: RANGES[b.dataset.range] };
			load();
		});
	});

	document.getElementById('custom-apply').addEventListener('click', function () {
		const from = new Date(document.getElementById('custom-from').value).getTime();
		const to = new Date(document.getElementById('custom-to').value).getTime();
		if (!isFinite(from) || !isFinite(to) || from >= to) {
			errorEl.textContent = 'Custom range: a start before its end, please.';
			return;
		}
		range = { from: from, to: to };
		load();
	});

	/* What is shown, when the link is followed. */
	document.getElementById('csv').addEventListener('click', function (ev) {
		const w = shownWindow();
		ev.currentTarget.href = '/api/history.csv?node=' +
		    encodeURIComponent(name) + '&from=' + Math.floor(w.from) +
		    '&to=' + Math.ceil(w.to) + '&fields=p,t,v';
		ev.currentTarget.download = name + '-' + Math.floor(w.from) + '.csv';
	});

	wgu.onReading(function (r) {
		if (r.node !== name)
			return;
		last = r;
		renderNow();
		if (!range.relative)
			return;
		if (pending) {
			pending.push(r);
			return;
		}
		addPoint(r);
		scheduleRedraw();
	});

	FIELDS.forEach(function (f) {
		charts[f.key] = makeChart(f);
	});
	wgu.header();
	wgu.thresholds().then(function (th) {
		thresholds = th || {};
		fitThresholds();
		renderNow();
		scheduleRedraw();
	});
	loadNode().then(load);
	setInterval(loadNode, 15000);
	setInterval(function () {
		renderAge();
		if (range.relative)
			scheduleRedraw();
	}, 1000);
})();
