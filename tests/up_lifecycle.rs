//! The lifecycle commands in the spec's order against the real daemon: `initializeCommand` on the host (allowed),
//! then in the container `onCreateCommand`, `updateContentCommand`, `postCreateCommand` once per container and
//! `postStartCommand` on each start; the string (shell), array (no shell) and object (named, in parallel) forms;
//! `postAttachCommand` is left to VS Code, which runs it when it attaches.

mod common;
mod up_support;

use common::docker::{standin_images_available, STANDIN_IMAGE};
use up_support::{docker_exec, Workspace};

#[test]
fn hooks_run_in_the_spec_order_in_every_form_and_post_start_on_each_start() {
    if !standin_images_available() {
        return;
    }
    // Each hook appends its name to /tmp/order.log. The object form's two commands each wait for the other's file:
    // run one after the other, they would time out, so they pass only when run in parallel.
    let ws = Workspace::new(&format!(
        r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none"],
             "initializeCommand": "echo initialize > host-order.log",
             "onCreateCommand": "test -f host-order.log && echo onCreate >> /tmp/order.log",
             "updateContentCommand": ["sh", "-c", "echo updateContent >> /tmp/order.log; echo \"$1\" > /tmp/array-arg", "-", "a; b"],
             "postCreateCommand": {{
               "left":  "touch /tmp/left;  i=0; while [ ! -e /tmp/right ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; test -e /tmp/right && echo postCreate:left >> /tmp/order.log",
               "right": "touch /tmp/right; i=0; while [ ! -e /tmp/left ]  && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; test -e /tmp/left && echo postCreate:right >> /tmp/order.log"
             }},
             "postStartCommand": "echo postStart >> /tmp/order.log",
             "postAttachCommand": "echo postAttach >> /tmp/order.log" }}"#
    ));
    let (code, env, stderr) = ws.devgpu(&["up", "--allow-host-commands"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    let id = env["data"]["containerId"].as_str().unwrap().to_string();
    let order = docker_exec(&id, None, "cat /tmp/order.log");
    let lines: Vec<&str> = order.lines().collect();
    assert_eq!(lines[..2], ["onCreate", "updateContent"], "{order}");
    let mut post_create = lines[2..4].to_vec();
    post_create.sort();
    assert_eq!(post_create, ["postCreate:left", "postCreate:right"], "both named commands ran, in parallel: {order}");
    assert_eq!(lines[4..], ["postStart"], "postStart last; postAttach is VS Code's: {order}");
    assert_eq!(docker_exec(&id, None, "cat /tmp/array-arg"), "a; b", "the array form passes its arguments without a shell");

    // A second up on the running container runs nothing in it; a restart runs postStartCommand only.
    let (code, _, _) = ws.devgpu(&["up", "--allow-host-commands"]);
    assert_eq!(code, 0);
    assert_eq!(docker_exec(&id, None, "wc -l < /tmp/order.log"), "5");
    let (code, _, _) = ws.devgpu(&["down"]);
    assert_eq!(code, 0);
    let (code, env, stderr) = ws.devgpu(&["up", "--allow-host-commands"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    assert_eq!(env["data"]["containerId"], id.as_str());
    assert_eq!(docker_exec(&id, None, "tail -n 2 /tmp/order.log | tr '\\n' ' '"), "postStart postStart", "docker_exec trims");
}
