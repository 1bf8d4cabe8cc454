# A GTK3 window that offers files (argv[1:]) as a text/uri-list drag source, so that the
# end-to-end test can perform a real OS-level drag-and-drop onto the app with xdotool.
# Run with Debian's /usr/bin/python3 (python3-gi).
import sys
from urllib.parse import quote

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, Gtk  # noqa: E402

uris = ["file://" + quote(p) for p in sys.argv[1:]]
win = Gtk.Window(title="dragsrc")
win.move(1000, 50)
win.set_default_size(150, 80)
button = Gtk.Button(label="DRAG ME")
win.add(button)
button.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
button.drag_source_add_uri_targets()
button.connect("drag-data-get", lambda w, ctx, data, info, t: data.set_uris(uris))
win.connect("destroy", Gtk.main_quit)
win.show_all()
Gtk.main()
