/* What every page of the dashboard shares: the JSON API with its session
 * handling, the header (live indicator, active alarm count, user, logout),
 * the one EventSource of the page, the server's clock, thresholds and the
 * formatting of numbers, ages and times.  Plain JS, no build step; the
 * pages load it before their own script. */
'use strict';

const wgu = (function () {
	/* Server time minus local time, from the last /api/nodes "now". */
	let clockOffset = 0;
	let sessionPromise = null;
	let thresholdsPromise = null;
	let source = null;
	const readingHandlers = [];
	const alarmHandlers = [];
	const changeHandlers = [];
	/* Active alarms by id, kept for the header's count. */
	const active = new Map();

	function toLogin() {
		window.location.assign('/login');
	}

	/* fetch() of a JSON API path.  A 401 means the session is gone: back
	 * to the login page.  Other errors reject with the server's message. */
	async function api(path, options) {
		const resp = await fetch(path, Object.assign({
			credentials: 'same-origin',
			cache: 'no-store',
			headers: { Accept: 'application/json' },
		}, options || {}));
		if (resp.status === 401) {
			toLogin();
			throw new Error('not logged in');
		}
		let body = null;
		try {
			body = await resp.json();
		} catch (e) {
			body = null;
		}
		if (!resp.ok) {
			const msg = body && body.error ? body.error : resp.statusText;
			const err = new Error(resp.status + ' ' + msg);
			err.status = resp.status;
			throw err;
		}
		return body;
	}

	function session() {
		if (!sessionPromise)
			sessionPromise = api('/api/session');
		return sessionPromise;
	}

	/* A POST carrying the session's CSRF token. */
	async function post(path) {
		const s = await session();
		return api(path, {
			method: 'POST',
			headers: { Accept: 'application/json', 'X-CSRF-Token': s.csrf },
		});
	}

	function thresholds() {
		if (!thresholdsPromise)
			thresholdsPromise = api('/api/thresholds').catch(function () {
				thresholdsPromise = null;
				return {};
			});
		return thresholdsPromise;
	}

	/* 0 normal, 1 warning, 2 critical for one value against its field's
	 * thresholds (direction "below" for a low limit; else high). */
	function severity(th, field, value) {
		const f = th && th[field];
		if (!f || typeof value !== 'number')
			return 0;
		const below = f.direction === 'below';
		const beyond = function (limit) {
			return typeof limit === 'number' &&
			    (below ? value <= limit : value >= limit);
		};
		if (beyond(f.critical))
			return 2;
		if (beyond(f.warning))
			return 1;
		return 0;
	}

	function setServerNow(ms) {
		if (typeof ms === 'number')
			clockOffset = ms - Date.now();
	}

	function serverNow() {
		return Date.now() + clockOffset;
	}

	/* The server's clock from /api/nodes, for pages that do not read it
	 * anyway (ages and durations are the server's time minus ours). */
	function syncClock() {
		api('/api/nodes').then(function (b) {
			setServerNow(b.now);
		}, function () {});
	}

	/* ------------------------------------------------------------ format */
	function num(v, digits) {
		if (typeof v !== 'number' || !isFinite(v))
			return '–';
		return v.toFixed(digits === undefined ? 2 : digits);
	}

	function duration(seconds) {
		if (typeof seconds !== 'number' || !isFinite(seconds))
			return '–';
		if (seconds < 0)
			seconds = 0;
		if (seconds < 10)
			return seconds.toFixed(1) + ' s';
		if (seconds < 120)
			return Math.floor(seconds) + ' s';
		if (seconds < 7200)
			return Math.floor(seconds / 60) + ' min ' +
			    Math.floor(seconds % 60) + ' s';
		if (seconds < 172800)
			return Math.floor(seconds / 3600) + ' h ' +
			    Math.floor((seconds % 3600) / 60) + ' min';
		return Math.floor(seconds / 86400) + ' d';
	}

	function pad(n, w) {
		return String(n).padStart(w || 2, '0');
	}

	/* Local wall-clock time of ms since the epoch; with the date when it is
	 * not today. */
	function time(ms) {
		if (typeof ms !== 'number')
			return '–';
		const d = new Date(ms);
		const now = new Date();
		const hms = pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' +
		    pad(d.getSeconds());
		if (d.toDateString() === now.toDateString())
			return hms;
		return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' +
		    pad(d.getDate()) + ' ' + hms;
	}

	function bytes(n) {
		if (typeof n !== 'number' || !isFinite(n))
			return '–';
		const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
		let i = 0;
		while (n >= 1024 && i < units.length - 1) {
			n /= 1024;
			i++;
		}
		return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + units[i];
	}

	/* An element with a class and text: pages build their DOM with this
	 * and textContent only, never from HTML strings. */
	function el(tag, cls, text) {
		const e = document.createElement(tag);
		if (cls)
			e.className = cls;
		if (text !== undefined && text !== null)
			e.textContent = text;
		return e;
	}

	const severityName = ['normal', 'warning', 'critical'];

	/* ------------------------------------------------------------ header */
	function renderBadge() {
		const badge = document.getElementById('alarm-badge');
		if (!badge)
			return;
		let unacked = 0;
		active.forEach(function (a) {
			if (!a.acked_by)
				unacked++;
		});
		const n = active.size;
		badge.textContent = n === 0 ? 'No active alarms' :
		    n + (n === 1 ? ' active alarm' : ' active alarms') +
		    (unacked > 0 ? ' (' + unacked + ' new)' : '');
		badge.classList.toggle('active', n > 0);
		badge.classList.toggle('acked', n > 0 && unacked === 0);
	}

	function isActive(a) {
		return a.end === null || a.end === undefined;
	}

	/* An alarm from the event stream or a list: kept while active. */
	function noteAlarm(a) {
		if (!a || a.id === undefined)
			return;
		if (isActive(a) && a.event !== 'clear') {
			const old = active.get(a.id);
			if (old && !a.acked_by && old.acked_by) {
				a.acked_by = old.acked_by;
				a.acked_at = old.acked_at;
			}
			active.set(a.id, a);
		} else {
			active.delete(a.id);
		}
	}

	async function syncAlarms() {
		try {
			const body = await api('/api/alarms?state=active');
			active.clear();
			(body.alarms || []).forEach(noteAlarm);
			renderBadge();
			changeHandlers.forEach(function (h) {
				h(active);
			});
		} catch (e) {
			/* The next resync tries again. */
		}
	}

	function setLive(state) {
		const dot = document.getElementById('live-dot');
		const text = document.getElementById('live-text');
		if (!dot || !text)
			return;
		dot.classList.toggle('on', state === 'on');
		dot.classList.toggle('off', state === 'off');
		text.textContent = state === 'on' ? 'live' :
		    state === 'off' ? 'reconnecting' : 'connecting';
	}

	function parse(ev) {
		try {
			return JSON.parse(ev.data);
		} catch (e) {
			return null;
		}
	}

	/* The page's one EventSource: readings and alarms go to the handlers
	 * registered with onReading/onAlarm.  It reconnects by itself; when
	 * the reason is a lost session, the session check sends us to the
	 * login page. */
	function connect() {
		if (source)
			return;
		source = new EventSource('/events');
		source.addEventListener('open', function () {
			setLive('on');
		});
		source.addEventListener('error', function () {
			setLive('off');
			if (source.readyState === EventSource.CLOSED) {
				source = null;
				sessionPromise = null;
				session().then(function () {
					setTimeout(connect, 2000);
				}, function () {});
			}
		});
		source.addEventListener('reading', function (ev) {
			const r = parse(ev);
			if (!r)
				return;
			readingHandlers.forEach(function (h) {
				h(r);
			});
		});
		source.addEventListener('alarm', function (ev) {
			const a = parse(ev);
			if (!a)
				return;
			noteAlarm(a);
			renderBadge();
			alarmHandlers.forEach(function (h) {
				h(a);
			});
			changeHandlers.forEach(function (h) {
				h(active);
			});
		});
	}

	function onReading(h) {
		readingHandlers.push(h);
	}

	function onAlarm(h) {
		alarmHandlers.push(h);
	}

	/* h(active alarms by id), after each change and each resync. */
	function onAlarmsChanged(h) {
		changeHandlers.push(h);
	}

	async function logout() {
		try {
			const s = await session();
			await fetch('/logout', {
				method: 'POST',
				credentials: 'same-origin',
				headers: { 'X-CSRF-Token': s.csrf },
			});
		} finally {
			if (source)
				source.close();
			toLogin();
		}
	}

	/* The header of every page but the login: who is logged in, the
	 * logout button, the alarm badge (kept current by the event stream
	 * and a resync every 20 s) and the stream's state. */
	function header() {
		const out = document.getElementById('logout');
		if (out)
			out.addEventListener('click', logout);
		session().then(function (s) {
			const who = document.getElementById('who');
			if (who)
				who.textContent = s.user + ' (' + s.role + ')';
			document.body.classList.add('role-' + s.role);
		}, function () {});
		setLive('connecting');
		syncAlarms();
		setInterval(syncAlarms, 20000);
		connect();
	}

	return {
		api: api,
		post: post,
		session: session,
		thresholds: thresholds,
		severity: severity,
		severityName: severityName,
		setServerNow: setServerNow,
		serverNow: serverNow,
		syncClock: syncClock,
		num: num,
		duration: duration,
		time: time,
		bytes: bytes,
		el: el,
		header: header,
		onReading: onReading,
		onAlarm: onAlarm,
		onAlarmsChanged: onAlarmsChanged,
		activeAlarms: function () {
			return active;
		},
	};
})();
