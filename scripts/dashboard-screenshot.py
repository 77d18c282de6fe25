#!/usr/bin/python3
"""Screenshots of a running wgu-dashboard, taken by headless Chromium
(Debian's chromium, chromium-driver and python3-selenium; run with
/usr/bin/python3, which sees them).  Used by scripts/demo.sh.

    dashboard-screenshot.py --base URL --user NAME --password-file FILE
        PAGE=PNG...

PAGE is a path of the dashboard ("/", "/alarms", "/node/edge-01"); each
is opened after logging in, given a moment to draw its live data, and
saved as PNG.  Exit status 0 when every screenshot was saved.
"""
import argparse
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--base', required=True)
    ap.add_argument('--user', required=True)
    ap.add_argument('--password-file', required=True)
    ap.add_argument('--settle', type=float, default=2.0,
                    help='seconds to let a page draw (2)')
    ap.add_argument('shots', nargs='+', metavar='PAGE=PNG')
    a = ap.parse_args()
    with open(a.password_file, encoding='utf-8') as f:
        password = f.readline().rstrip('\n')
    opts = webdriver.ChromeOptions()
    for arg in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage',
                '--window-size=1280,900', '--no-first-run'):
        opts.add_argument(arg)
    opts.binary_location = '/usr/bin/chromium'
    d = webdriver.Chrome(service=Service('/usr/bin/chromedriver'),
                         options=opts)
    try:
        d.get(a.base + '/login')
        d.find_element(By.ID, 'username').send_keys(a.user)
        d.find_element(By.ID, 'password').send_keys(password)
        d.find_element(By.ID, 'submit').click()
        WebDriverWait(d, 10).until(
            lambda drv: not drv.current_url.endswith('/login'))
        for shot in a.shots:
            page, png = shot.split('=', 1)
            d.get(a.base + page)
            time.sleep(a.settle)
            d.save_screenshot(png)
            print('dashboard-screenshot: %s -> %s' % (page, png))
    finally:
        d.quit()
    return 0


if __name__ == '__main__':
    sys.exit(main())
