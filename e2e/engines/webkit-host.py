#!/usr/bin/python3
"""WebKitGTK for the cross-engine scenarios: one process is one browser.

Every view shares one WebContext on one data directory, so views are tabs of one origin, and a
new process on the same directory finds the same OPFS and IndexedDB data (a browser restart).
Commands come on stdin and answers go to fd 3, one JSON object a line; the page's console goes
to stdout. WebKitWebDriver cannot be used: its sessions are ephemeral, with no navigator.storage.

  {"id": 1, "cmd": "open", "url": "..."}                          -> {"id": 1, "tab": 1}
  {"id": 2, "cmd": "eval", "tab": 1, "fn": "async (a) => ...", "arg": "<JSON>"}
                                                                  -> {"id": 2, "json": "<JSON>"}
  {"id": 3, "cmd": "close", "tab": 1}                             -> {"id": 3}
  {"id": 6, "cmd": "hide", "tab": 1} (or "show": the tab behind others, or in front again)
                                                                  -> {"id": 6}
  {"id": 4, "cmd": "version"}                                     -> {"id": 4, "version": "..."}
  {"id": 5, "cmd": "quit"}
A failed command answers {"id": n, "error": "..."}.
"""
import json
import os
import sys

import gi

gi.require_version('Gtk', '3.0')
gi.require_version('WebKit2', '4.1')
from gi.repository import GLib, Gtk, WebKit2  # noqa: E402

# Off by default in WebKitGTK: OPFS (sync access handles included), navigator.storage, and what
# the library needs besides.
FEATURES = {'FileSystem', 'FileSystemWritableStream', 'AccessHandle', 'StorageAPI', 'StorageAPIEstimate',
            'WebLocksAPI', 'SharedWorker', 'BroadcastChannel'}

data_dir = sys.argv[1]
answers = os.fdopen(3, 'w')
manager = WebKit2.WebsiteDataManager(base_data_directory=os.path.join(data_dir, 'data'),
                                     base_cache_directory=os.path.join(data_dir, 'cache'))
context = WebKit2.WebContext(website_data_manager=manager)
settings = WebKit2.Settings()
settings.set_enable_write_console_messages_to_stdout(True)
features = WebKit2.Settings.get_all_features()
for i in range(features.get_length()):
    feature = features.get(i)
    if feature.get_identifier() in FEATURES:
        settings.set_feature_enabled(feature, True)

tabs = {}
next_tab = [1]


def answer(message):
    answers.write(json.dumps(message) + '\n')
    answers.flush()


def open_tab(command):
    window = Gtk.Window()
    window.set_default_size(1024, 768)
    view = WebKit2.WebView(web_context=context, settings=settings)
    window.add(view)
    window.show_all()
    tab = next_tab[0]
    next_tab[0] += 1
    tabs[tab] = (window, view)
    handlers = []

    def settle(message):
        for handler in handlers:
            view.disconnect(handler)
        answer(message)

    def on_load(_view, event):
        if event == WebKit2.LoadEvent.FINISHED:
            settle({'id': command['id'], 'tab': tab})

    def on_failed(_view, _event, uri, error):
        settle({'id': command['id'], 'error': f'{uri}: {error.message}'})
        return False

    def on_crashed(_view, reason):
        settle({'id': command['id'], 'error': f'the web process ended ({reason.value_nick})'})

    handlers.append(view.connect('load-changed', on_load))
    handlers.append(view.connect('load-failed', on_failed))
    handlers.append(view.connect('web-process-terminated', on_crashed))
    view.load_uri(command['url'])


def evaluate(command):
    _window, view = tabs[command['tab']]
    # The body of an async function: its promise is awaited, and its value comes back as JSON.
    body = f'const r = await ({command["fn"]})(JSON.parse(arg)); return JSON.stringify({{ v: r }})'
    arguments = GLib.Variant('a{sv}', {'arg': GLib.Variant('s', command['arg'])})

    def done(_view, result):
        try:
            value = view.call_async_javascript_function_finish(result)
            answer({'id': command['id'], 'json': value.to_string()})
        except GLib.Error as error:
            answer({'id': command['id'], 'error': error.message})
        except Exception as error:  # an answer for every command
            answer({'id': command['id'], 'error': f'{type(error).__name__}: {error}'})

    view.call_async_javascript_function(body, -1, arguments, None, None, None, done)


def close_tab(command):
    window, view = tabs.pop(command['tab'])
    # As a user closing it: beforeunload, then the view's close signal. A page that holds on in
    # beforeunload (no one is there to confirm) is closed anyway, a moment later.
    done = []

    def closed(_view=None):
        if not done:
            done.append(True)
            window.destroy()
            answer({'id': command['id']})
        return False

    view.connect('close', closed)
    view.try_close()
    GLib.timeout_add(2000, closed)


def on_command(line):
    command = {}
    try:
        command = json.loads(line)
        name = command['cmd']
        if name == 'open':
            open_tab(command)
        elif name == 'eval':
            evaluate(command)
        elif name == 'close':
            close_tab(command)
        elif name in ('hide', 'show'):
            window, _view = tabs[command['tab']]
            window.hide() if name == 'hide' else window.show_all()
            answer({'id': command['id']})
        elif name == 'version':
            answer({'id': command['id'], 'version': 'WebKitGTK %d.%d.%d' % (
                WebKit2.get_major_version(), WebKit2.get_minor_version(), WebKit2.get_micro_version())})
        elif name == 'quit':
            Gtk.main_quit()
        else:
            answer({'id': command['id'], 'error': f'unknown command {name}'})
    except Exception as error:  # an answer for every command, whatever went wrong
        answer({'id': command.get('id'), 'error': f'{type(error).__name__}: {error}'})


pending_input = [b'']


def on_stdin(fd, condition):
    # Read what is there and run every whole line: a buffered readline() would keep lines the
    # watch never fires for again.
    chunk = os.read(fd, 1 << 20) if condition & GLib.IO_IN else b''
    if not chunk:
        Gtk.main_quit()
        return False
    *lines, pending_input[0] = (pending_input[0] + chunk).split(b'\n')
    for line in lines:
        if line.strip():
            on_command(line)
    return True


GLib.io_add_watch(sys.stdin.fileno(), GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, on_stdin)
Gtk.main()
