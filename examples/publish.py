#!/usr/bin/python3
"""Publishes readings to the wgu hub the way a plant's own device would.

    examples/publish.py --node edge-01 --password-file /etc/wgu/clients/edge-01.pw

Each reading is one JSON object, QoS 1, to PREFIX/NODE/telemetry:

    {"timestamp": 1796644800.123, "node_id": "edge-01",
     "data": {"p": 6.02, "t": 64.8, "v": 2.11}, "status": 0}

The node logs in as itself (user name = client id = node id) with the
password wgu-hub-setup wrote for it.  With --seq-state FILE the readings
also carry boot_id (kept in FILE, one more at every start) and seq, and the
script answers the historian's resend requests from the readings it
published since it started.  Needs python3-paho-mqtt (Debian 12: 1.6).
"""
import argparse
import datetime
import json
import random
import sys
import time

import paho.mqtt.client as mqtt


def timestamp(form):
    now = time.time()
    if form == "ms":
        return int(now * 1000)
    if form == "iso":
        return datetime.datetime.now(datetime.timezone.utc).isoformat()
    if form == "iso-naive":     # local time, no zone: the hub's default is UTC
        return datetime.datetime.now().isoformat()
    return now                  # seconds, with a fraction


def next_boot_id(path):
    try:
        with open(path) as f:
            boot = int(f.read().strip() or 0) + 1
    except FileNotFoundError:
        boot = 1
    with open(path, "w") as f:
        f.write("%d\n" % boot)
    return boot


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="10.0.0.1", help="broker (the hub's tunnel address)")
    ap.add_argument("--port", type=int, default=1883)
    ap.add_argument("--node", required=True, help="node id: MQTT user and client id")
    ap.add_argument("--password-file", required=True, help="file holding the node's password")
    ap.add_argument("--prefix", default="plant1/area1/line1", help="topic prefix")
    ap.add_argument("--count", type=int, default=10, help="readings to send (0: forever)")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between readings")
    ap.add_argument("--time-form", choices=["seconds", "ms", "iso", "iso-naive"],
                    default="seconds", help="how to write the timestamp")
    ap.add_argument("--field", action="append", default=[], metavar="NAME=VALUE",
                    help="an extra data field (repeatable)")
    ap.add_argument("--seq-state", metavar="FILE",
                    help="send boot_id/seq, the boot_id kept in FILE")
    args = ap.parse_args()

    with open(args.password_file) as f:
        password = f.readline().strip()
    extra = {}
    for item in args.field:
        name, _, value = item.partition("=")
        extra[name] = float(value)
    topic = "%s/%s/telemetry" % (args.prefix, args.node)
    boot = next_boot_id(args.seq_state) if args.seq_state else None
    sent = {}                   # seq -> payload, for resend requests

    def on_message(client, userdata, msg):
        try:
            rq = json.loads(msg.payload)["resend"]
        except (ValueError, KeyError, TypeError):
            return
        if rq.get("boot_id") == boot:
            for seq in range(rq["from"], rq["to"] + 1):
                if seq in sent:
                    client.publish(topic, sent[seq], qos=1)

    client = mqtt.Client(client_id=args.node, clean_session=False)
    client.username_pw_set(args.node, password)
    client.on_message = on_message
    client.connect(args.host, args.port, keepalive=30)
    if boot is not None:
        client.subscribe("%s/%s/cmd" % (args.prefix, args.node), qos=1)
    client.loop_start()

    n = 0
    while args.count == 0 or n < args.count:
        n += 1
        data = {"p": round(random.gauss(6.0, 0.1), 2),
                "t": round(random.gauss(65.0, 0.5), 1),
                "v": round(abs(random.gauss(2.1, 0.2)), 2)}
        data.update(extra)
        reading = {"timestamp": timestamp(args.time_form), "node_id": args.node,
                   "data": data, "status": 0}
        if boot is not None:
            reading.update(boot_id=boot, seq=n)
        payload = json.dumps(reading)
        sent[n] = payload
        sent.pop(n - 10000, None)
        client.publish(topic, payload, qos=1).wait_for_publish()
        print(payload, flush=True)
        if args.count == 0 or n < args.count:
            time.sleep(args.interval)
    time.sleep(0.5 if boot is None else 2.0)   # answer a late resend request
    client.loop_stop()
    client.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
