#!/usr/bin/python3
"""The browser half of tests/sys_dashboard.sh: headless Chromium driven by
Selenium against a running wgu-dashboard, plus the HTTP-level checks a
browser hides (status codes, Set-Cookie, the rate limit).  Run inside the
hub's namespace with Debian's interpreter (/usr/bin/python3 sees
python3-selenium):

    dashboard_browser.py --base http://127.0.0.1:8080 --out DIR
        --operator NAME:PWFILE --viewer NAME:PWFILE --nodes a,b,c
        --pub-node N --pub-conf DIR --broker HOST --prefix P
        --peer KEY [--endpoint ADDR:PORT]

The sim nodes (--nodes) publish by themselves; the test publishes as
--pub-node with mosquitto_pub (its options file in --pub-conf, the
$XDG_CONFIG_HOME of tests/plant.sh's client_conf): a reading that must
show within 2 s, then critical pressure and temperature, which the
historian must raise as alarms.  One line per check, "ok   TEXT" or
"FAIL TEXT" (tests/lib.sh's format); the shell counts them.  Screenshots
go to --out.  The wrong-password storm comes last: it locks out logins
from this address.
"""
import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

failures = 0


def check(desc, cond, detail=''):
    global failures
    if cond:
        print('ok   ' + desc, flush=True)
    else:
        failures += 1
        detail = str(detail)
        if len(detail) > 400:
            detail = detail[:400] + '...'
        print('FAIL ' + desc + (': ' + detail if detail else ''), flush=True)
    return cond


def wait(fn, timeout, step=0.05):
    """fn() until it returns something true or timeout s pass; its last
    value (exceptions count as false)."""
    end = time.monotonic() + timeout
    while True:
        try:
            v = fn()
        except (WebDriverException, KeyError, ValueError, TypeError):
            v = None
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def account(spec):
    name, path = spec.split(':', 1)
    with open(path, encoding='utf-8') as f:
        return name, f.readline().rstrip('\n')


class Http:
    """Raw HTTP to the dashboard, redirects not followed."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=10)
        h = dict(headers or {})
        if body is not None and 'Content-Type' not in h:
            h['Content-Type'] = 'application/x-www-form-urlencoded'
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.getheaders(), data

    def login(self, user, password):
        return self.request('POST', '/login', urllib.parse.urlencode(
            {'username': user, 'password': password}))


def header(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


class Page:
    """One browser (one cookie jar)."""

    def __init__(self, base, out):
        opts = webdriver.ChromeOptions()
        for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage',
                  '--window-size=1280,900', '--disable-gpu',
                  '--no-first-run', '--disable-extensions'):
            opts.add_argument(a)
        opts.binary_location = '/usr/bin/chromium'
        opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        self.d = webdriver.Chrome(service=Service('/usr/bin/chromedriver'),
                                  options=opts)
        self.base = base
        self.out = out

    def get(self, path):
        self.d.get(self.base + path)

    def path(self):
        return urllib.parse.urlsplit(self.d.current_url).path

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def fetch(self, method, path, headers=None):
        """Status and body of a fetch() from the page: the browser's own
        cookie, as a script on the page would send it."""
        return self.d.execute_async_script('''
            const done = arguments[arguments.length - 1];
            fetch(arguments[1], {method: arguments[0], headers: arguments[2],
                                 credentials: 'same-origin'})
              .then(r => r.text().then(t => done([r.status, t])))
              .catch(e => done([0, String(e)]));''', method, path,
            headers or {})

    def text(self, css):
        return self.d.find_element(By.CSS_SELECTOR, css).text

    def login(self, user, password):
        self.get('/login')
        self.d.find_element(By.ID, 'username').clear()
        self.d.find_element(By.ID, 'username').send_keys(user)
        self.d.find_element(By.ID, 'password').clear()
        self.d.find_element(By.ID, 'password').send_keys(password)
        self.d.find_element(By.ID, 'submit').click()

    def shot(self, name):
        path = os.path.join(self.out, name)
        self.d.save_screenshot(path)
        return path

    def errors(self):
        """Console errors other than the refusals the test provokes."""
        out = []
        for e in self.d.get_log('browser'):
            if e.get('level') != 'SEVERE':
                continue
            m = e.get('message', '')
            if re.search(r'status of (400|401|403|404|429)', m):
                continue
            out.append(m)
        return out

    def quit(self):
        self.d.quit()


class Publisher:
    """Readings of one node, published the way a device would."""

    def __init__(self, a):
        self.node, self.conf = a.pub_node, a.pub_conf
        self.broker, self.prefix = a.broker, a.prefix
        self.port = str(a.port)

    def publish(self, p, t, v, status):
        ts = int(time.time() * 1000)
        msg = json.dumps({'timestamp': ts, 'node_id': self.node,
                          'data': {'p': p, 't': t, 'v': v}, 'status': status})
        env = dict(os.environ, XDG_CONFIG_HOME=self.conf, HOME='/nonexistent')
        subprocess.run(['mosquitto_pub', '-h', self.broker, '-p', self.port,
                        '-q', '1',
                        '-i', self.node, '-t',
                        '%s/%s/telemetry' % (self.prefix, self.node),
                        '-m', msg], env=env, check=True, timeout=10)
        return ts


def tiles(page):
    return page.js('''return Array.from(document.querySelectorAll(
        '#tiles .tile')).map(t => t.dataset.node);''')


def tile_text(page, node):
    return page.js('''const t = document.querySelector(
        '#tiles .tile[data-node="' + arguments[0] + '"]');
        return t ? [t.className, t.innerText] : null;''', node)


def alarm_rows(page, table):
    return page.js('''return Array.from(document.querySelectorAll(
        '#' + arguments[0] + ' tbody tr[data-id]')).map(r => ({
        id: r.dataset.id, text: r.innerText,
        button: !!r.querySelector('button.ack')}));''', table)


def overview_checks(page, a, pub):
    page.get('/')
    want = sorted(a.nodes.split(','))
    got = wait(lambda: sorted(tiles(page)) == want and tiles(page), 10)
    check('overview: one tile per node (%s)' % ', '.join(want),
          got and sorted(got) == want, tiles(page))
    check('overview: the event stream is live',
          wait(lambda: page.text('#live-text') == 'live', 5),
          page.text('#live-text'))
    # A reading published now, with values no simulated node has.
    t0 = time.monotonic()
    pub.publish(6.54, 43.21, 1.23, 0)
    shown = wait(lambda: (lambda t: t and '43.2' in t[1] and t)(
        tile_text(page, pub.node)), 5, 0.02)
    dt = time.monotonic() - t0
    check('a reading published now is on the overview within 2 s '
          '(%.2f s, mosquitto_pub included)' % dt, shown and dt <= 2.0,
          tile_text(page, pub.node))
    check('its tile is normal and shows p, t and v',
          shown and 'NORMAL' in shown[1] and '6.54' in shown[1] and
          '1.23' in shown[1], shown)
    return shown


def critical_checks(page, a, pub):
    pub.publish(11.2, 44.0, 1.3, 2)
    crit = wait(lambda: (lambda t: t and 's2' in t[0].split() and t)(
        tile_text(page, pub.node)), 3, 0.02)
    check('a critical reading turns the tile red, saying p',
          crit and 'CRITICAL' in crit[1] and 'P' in crit[1].split('·')[-1],
          tile_text(page, pub.node))
    badge = wait(lambda: re.search(r'[1-9]\d* active alarm',
                                   page.text('#alarm-badge')), 15)
    check('the header counts the active alarm', badge,
          page.text('#alarm-badge'))
    page.shot('overview.png')


def node_page_checks(page, a, pub):
    node = pub.node
    page.get('/node/' + node)
    points = wait(lambda: page.js(
        "const c = Chart.getChart('chart-p');"
        "return c && c.data.datasets[2].data.length;"), 10)
    check('node page: the pressure chart has the node\'s history', points,
          points)
    th = page.js("const c = Chart.getChart('chart-p');"
                 "return [c.scales.y.min, c.scales.y.max];")
    th_api = json.loads(page.fetch('GET', '/api/thresholds')[1])
    check('node page: the y axis reaches the critical threshold (%s bar)'
          % th_api['p']['critical'],
          th[1] >= th_api['p']['critical'], th)
    # A live reading lands on the chart without a reload.
    before = page.js("return Chart.getChart('chart-t').data.datasets[2]"
                     ".data.slice(-1)[0].y;")
    pub.publish(11.0, 47.5, 1.4, 2)
    live = wait(lambda: page.js(
        "return Chart.getChart('chart-t').data.datasets[2].data"
        ".some(p => p.y >= 45);"), 3)
    check('node page: a live reading reaches the chart', live, before)
    check('node page: the state says CRITICAL',
          wait(lambda: page.text('#node-state') == 'CRITICAL', 3),
          page.text('#node-state'))
    page.d.find_element(By.CSS_SELECTOR, '#range button[data-range="1h"]') \
        .click()
    check('node page: the 1 h range reloads the history',
          wait(lambda: page.js(
              "const x = Chart.getChart('chart-v').options.scales.x;"
              "return x.max - x.min > 3500e3 && Chart.getChart('chart-v')"
              ".data.datasets[2].data.length > 0 && document.getElementById("
              "'range-note').textContent.indexOf('loading') < 0;"), 5))
    page.d.find_element(By.ID, 'csv').click()
    href = page.js("return document.getElementById('csv').href;")
    status, body = page.fetch('GET', href)
    lines = body.splitlines()
    check('node page: the CSV link gives the shown range as CSV',
          status == 200 and lines and lines[0].startswith('ts,node,') and
          len(lines) > 1 and all(node in l for l in lines[1:]),
          (status, lines[:3]))
    page.shot('node-%s.png' % node)
    # A simulated node, with some history behind it, for the record.
    page.get('/node/' + a.nodes.split(',')[0])
    wait(lambda: page.js("return Chart.getChart('chart-v').data.datasets[2]"
                         ".data.length > 10;"), 5)
    page.d.set_window_size(1280, 1000)
    page.shot('node.png')
    page.d.set_window_size(1280, 900)


def csrf_and_params_checks(page, alarm_id):
    sess = json.loads(page.fetch('GET', '/api/session')[1])
    check('session: user, role and a CSRF token',
          sess.get('role') == 'operator' and
          re.fullmatch(r'[0-9a-f]{16,}', sess.get('csrf', '')), sess)
    url = '/api/alarms/%s/ack' % alarm_id
    st = page.fetch('POST', url)[0]
    check('ack without the CSRF token: 403', st == 403, st)
    st = page.fetch('POST', url, {'X-CSRF-Token': '0' * 64})[0]
    check('ack with a wrong CSRF token: 403', st == 403, st)
    st = page.fetch('POST', '/logout')[0]
    still = page.fetch('GET', '/api/session')[0]
    check('logout without the CSRF token: refused, session kept',
          st == 403 and still == 200, (st, still))
    bad = ['/api/history?node=edge-01&from=yesterday',
           '/api/history?node=edge-01&bogus=1',
           '/api/history?node=../../etc/passwd',
           '/api/history?node=edge-01&fields=p,x',
           '/api/history?node=edge-01&from=-1h&to=-2h',
           '/api/history.csv?node=edge-01&to=%00',
           '/api/alarms?state=maybe',
           '/api/alarms?state=all&state=all',
           '/api/nodes?x=' + 'A' * 3000,
           '/api/alarms/abc/ack']
    codes = [page.fetch('GET', u)[0] for u in bad[:-1]]
    codes.append(page.fetch('POST', bad[-1], {'X-CSRF-Token':
                                              sess.get('csrf', '')})[0])
    check('nonsense query parameters: 400 each (%d requests)' % len(bad),
          all(c == 400 for c in codes),
          [(u[:60], c) for u, c in zip(bad, codes) if c != 400])
    check('the server is still up after them',
          page.fetch('GET', '/api/nodes')[0] == 200)
    return sess


def ack_checks(page, user, node):
    page.get('/alarms')
    row = wait(lambda: [r for r in alarm_rows(page, 'active')
                        if node in r['text'] and 'threshold' in r['text']
                        and r['button']], 15)
    check('alarms page: the critical alarm of %s with an Acknowledge '
          'button for the operator' % node, row, alarm_rows(page, 'active'))
    if not row:
        return None
    alarm_id = row[0]['id']
    page.d.find_element(
        By.CSS_SELECTOR, '#active tr[data-id="%s"] button.ack' % alarm_id) \
        .click()
    acked = wait(lambda: [r for r in alarm_rows(page, 'active')
                          if r['id'] == alarm_id and
                          (user + ' at') in r['text'] and not r['button']], 5)
    check('the operator acknowledges it: "%s at ..." and no button' % user,
          acked, alarm_rows(page, 'active'))
    api = json.loads(page.fetch('GET', '/api/alarms?state=all')[1])
    mine = [x for x in api['alarms'] if str(x['id']) == alarm_id]
    check('the API has acked_by and acked_at',
          mine and mine[0]['acked_by'] == user and mine[0]['acked_at'],
          mine)
    page.shot('alarms.png')
    return alarm_id


def logout_checks(page):
    page.get('/')
    page.d.find_element(By.ID, 'logout').click()
    check('logout: back to /login, the session gone',
          wait(lambda: page.path() == '/login', 5) and
          page.fetch('GET', '/api/session')[0] == 401)


def viewer_checks(page, a, pub, viewer):
    # A second alarm (temperature) that nobody has acknowledged.
    pub.publish(6.0, 99.0, 1.2, 2)
    page.login(*viewer)
    check('viewer logs in', wait(lambda: page.path() == '/', 5),
          page.d.current_url)
    page.get('/alarms')
    rows = wait(lambda: [r for r in alarm_rows(page, 'active')
                         if pub.node in r['text'] and
                         re.search(r'\tt\t', r['text'])], 15)
    check('viewer: the temperature alarm is listed', rows,
          alarm_rows(page, 'active'))
    all_rows = alarm_rows(page, 'active')
    check('viewer: no Acknowledge button on any alarm',
          all_rows and not any(r['button'] for r in all_rows), all_rows)
    if rows:
        sess = json.loads(page.fetch('GET', '/api/session')[1])
        st = page.fetch('POST', '/api/alarms/%s/ack' % rows[0]['id'],
                        {'X-CSRF-Token': sess.get('csrf', '')})[0]
        api = json.loads(page.fetch('GET', '/api/alarms?state=all')[1])
        still = [x for x in api['alarms'] if str(x['id']) == rows[0]['id']]
        check('viewer: POST ack with a valid CSRF token refused (403), '
              'alarm still unacknowledged', st == 403 and still and
              still[0]['acked_by'] is None, (st, still))


def tunnel_checks(page, a):
    page.get('/tunnel')
    row = wait(lambda: page.js('''return Array.from(document.querySelectorAll(
        '#peers tr.peer')).map(r => r.innerText).find(
        t => t.includes(arguments[0]));''', a.peer), 8)
    check('tunnel page: the edge peer with its endpoint and a recent '
          'handshake', row and (not a.endpoint or a.endpoint in row) and
          re.search(r'\d+(\.\d)? s ago', row),
          row or page.fetch('GET', '/api/tunnel'))
    check('tunnel page: drop counters listed',
          wait(lambda: page.js("return document.querySelectorAll("
                               "'#drops tr.drop').length;"), 3))
    page.shot('tunnel.png')


def silent_checks(page, a, pub):
    page.get('/')
    t = wait(lambda: (lambda x: x and 'silent' in x[0].split() and x)(
        tile_text(page, pub.node)), max(a.silent_after, 10) + 8)
    check('a node that stopped publishing is marked SILENT',
          t and 'SILENT' in t[1], tile_text(page, pub.node))
    others = [tile_text(page, n) for n in a.nodes.split(',')
              if n != pub.node]
    check('the publishing nodes are not',
          others and all('silent' not in o[0].split() for o in others),
          others)
    page.shot('overview-silent.png')


def http_checks(h, operator):
    st, hd, _ = h.request('GET', '/')
    check('GET / without a session: 303 to /login',
          st == 303 and header(hd, 'Location')[:1] in (['/login'], [
              'http://127.0.0.1:%d/login' % h.port]), (st, hd))
    st, _, body = h.request('GET', '/api/nodes')
    check('API without a session: 401 JSON', st == 401 and
          b'"error"' in body, (st, body[:80]))
    st, hd, _ = h.login(operator[0], operator[1])
    cookies = header(hd, 'Set-Cookie')
    c = cookies[0] if cookies else ''
    attrs = [x.strip().lower() for x in c.split(';')]
    check('login: 303 to / with wgu_session=<64 hex>; Path=/; HttpOnly; '
          'SameSite=Strict (no Secure over plain HTTP)',
          st == 303 and re.match(r'wgu_session=[0-9a-f]{64}$', c.split(';')[0])
          and 'path=/' in attrs and 'httponly' in attrs and
          'samesite=strict' in attrs and 'secure' not in attrs, (st, c))
    return c.split(';')[0]


def rate_limit_checks(h, page, user):
    codes = []
    retry = None
    for _ in range(12):
        st, hd, _ = h.login(user, 'not-the-password')
        codes.append(st)
        if st == 429:
            retry = header(hd, 'Retry-After')
            break
    check('wrong password: 401', codes and codes[0] == 401, codes)
    check('then rate-limited: 429 with Retry-After (after %d tries)'
          % len(codes), codes[-1] == 429 and retry and
          re.fullmatch(r'\d+', retry[0]), (codes, retry))
    page.d.delete_all_cookies()
    page.get('/login')
    page.d.find_element(By.ID, 'username').send_keys(user)
    page.d.find_element(By.ID, 'password').send_keys('not-the-password')
    page.d.find_element(By.ID, 'submit').click()
    msg = wait(lambda: 'Too many' in page.text('#error') and
               page.text('#error'), 5)
    check('the login page says so', msg, page.text('#error'))


def main():
    ap = argparse.ArgumentParser()
    for o in ('base', 'out', 'operator', 'viewer', 'nodes', 'pub-node',
              'pub-conf', 'broker', 'prefix', 'peer'):
        ap.add_argument('--' + o, required=True)
    ap.add_argument('--endpoint')
    ap.add_argument('--port', type=int, default=1883)
    ap.add_argument('--silent-after', type=float, default=10)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    operator, viewer = account(a.operator), account(a.viewer)
    pub = Publisher(a)
    h = Http(a.base)
    steps = []

    def step(name, fn, *args):
        t = time.monotonic()
        try:
            return fn(*args)
        except Exception as e:  # one broken step must not hide the others
            check('%s: ran without error' % name, False, repr(e))
            return None
        finally:
            steps.append('%s %.1fs' % (name, time.monotonic() - t))

    t = time.monotonic()
    page = Page(a.base, a.out)
    steps.append('browser %.1fs' % (time.monotonic() - t))
    try:
        step('http', http_checks, h, operator)
        page.login('nobody-' + operator[0], 'wrong')
        check('browser: wrong password stays on /login with a message',
              wait(lambda: 'Wrong' in page.text('#error'), 5) and
              page.path() == '/login', page.text('#error'))
        page.login(*operator)
        check('browser: operator logs in to the overview',
              wait(lambda: page.path() == '/', 5), page.d.current_url)
        ck = [c for c in page.d.get_cookies() if c['name'] == 'wgu_session']
        check('browser cookie: httpOnly, sameSite Strict, not readable by '
              'scripts', ck and ck[0].get('httpOnly') is True and
              ck[0].get('sameSite') == 'Strict' and
              'wgu_session' not in page.js('return document.cookie;'), ck)
        a.nodes = ','.join(sorted(set(a.nodes.split(','))))
        step('overview', overview_checks, page, a, pub)
        a.nodes = ','.join(sorted(set(a.nodes.split(',') + [pub.node])))
        step('critical', critical_checks, page, a, pub)
        step('node', node_page_checks, page, a, pub)
        alarm_id = step('ack', ack_checks, page, operator[0], pub.node)
        step('csrf', csrf_and_params_checks, page, alarm_id or 1)
        step('tunnel', tunnel_checks, page, a)
        step('silent', silent_checks, page, a, pub)
        step('logout', logout_checks, page)
        step('viewer', viewer_checks, page, a, pub, viewer)
        errs = page.errors()
        check('no script errors in the browser console', not errs, errs)
        step('rate limit', rate_limit_checks, h, page, operator[0])
    finally:
        page.quit()
    print('screenshots: %s' % a.out)
    print('steps: ' + ', '.join(steps))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
