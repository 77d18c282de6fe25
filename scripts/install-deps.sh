#!/bin/sh
# Installs every Debian package wgu needs to build, test and fuzz.
# Idempotent: packages already present are left alone, and apt's package
# lists are refreshed only when something is missing (a fresh Debian 12
# image has no lists at all, so the first run always updates).
set -eu

BUILD_PKGS="build-essential autoconf automake pkg-config
  android-libboringssl-dev libev-dev libmosquitto-dev libcjson-dev libsqlite3-dev
  libseccomp-dev libssl-dev libmodbus-dev
  libpq-dev"
TEST_PKGS="wireguard-go wireguard-tools mosquitto mosquitto-clients gnuplot-nox
  iproute2 iputils-ping iperf3 nftables conntrack procps psmisc android-boringssl
  clang libclang-rt-14-dev ethtool valgrind python3-paho-mqtt
  python3-pymodbus python3-serial-asyncio
  postgresql-15"
# promtool checks the dashboard's /metrics text (tests/test_dashboard_data)
# and `wgu stats --prometheus` (tests/sys_hostile.sh).
TEST_PKGS="$TEST_PKGS prometheus"
# wgu-dashboard's HTTP server; curl and openssl drive its system test.
BUILD_PKGS="$BUILD_PKGS libmicrohttpd-dev"
TEST_PKGS="$TEST_PKGS curl openssl"
# The dashboard in a real browser (tests/sys_dashboard.sh), Chart.js it serves.
TEST_PKGS="$TEST_PKGS chromium chromium-driver python3-selenium libjs-chart.js"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (apt-get install)" >&2
	exit 1
fi

missing=""
for pkg in $BUILD_PKGS $TEST_PKGS; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $pkg" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
