#!/usr/bin/python3
"""A stand-in for the desktop's notification daemon (org.freedesktop.Notifications) on the
session bus, for tests: each Notify call is appended to the file given as argv[1] as one JSON
line. Needs python3-gi (Debian's, /usr/bin/python3)."""
import json
import sys

from gi.repository import Gio, GLib

XML = """<node><interface name="org.freedesktop.Notifications">
<method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/><arg type="s" direction="in"/>
<arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="as" direction="in"/>
<arg type="a{sv}" direction="in"/><arg type="i" direction="in"/><arg type="u" direction="out"/></method>
<method name="GetServerInformation"><arg type="s" direction="out"/><arg type="s" direction="out"/>
<arg type="s" direction="out"/><arg type="s" direction="out"/></method>
</interface></node>"""
out = sys.argv[1]
count = [0]


def call(conn, sender, path, iface, method, params, invocation):
    if method == "Notify":
        app, _, icon, summary, body, *_ = params.unpack()
        count[0] += 1
        with open(out, "a") as f:
            f.write(json.dumps({"app": app, "icon": icon, "summary": summary, "body": body}) + "\n")
        invocation.return_value(GLib.Variant("(u)", (count[0],)))
    else:
        invocation.return_value(GLib.Variant("(ssss)", ("stand-in", "stackdrop-tests", "1", "1.2")))


def acquired(conn, name):
    node = Gio.DBusNodeInfo.new_for_xml(XML)
    conn.register_object("/org/freedesktop/Notifications", node.interfaces[0], call, None, None)


def owned(conn, name):
    print("ready", flush=True)


Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.Notifications", Gio.BusNameOwnerFlags.NONE, acquired, owned, lambda *a: sys.exit(1))
GLib.MainLoop().run()
