use crate::domain::time::wait_text;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/login`: a plain form posted to `POST /login` (works without
/// JavaScript). The server redirects back here with `error=1`, `retry=N`
/// (throttled) or `signed_out=1`; the message never says whether the name
/// or the password was wrong.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let q = query.read_untracked();
    let next = q.get("next").unwrap_or_default();
    let message = if let Some(secs) = q.get("retry") {
        let secs: u64 = secs.parse().unwrap_or(60);
        Some((
            "error",
            format!(
                "Too many failed sign-ins. Try again in {}.",
                wait_text(secs)
            ),
        ))
    } else if q.get("error").is_some() {
        Some((
            "error",
            "The name or the password is wrong, or the account is disabled.".to_string(),
        ))
    } else if q.get("signed_out").is_some() {
        Some(("info", "You are signed out.".to_string()))
    } else if !next.is_empty() {
        Some(("info", "Sign in to see that page.".to_string()))
    } else {
        None
    };
    view! {
        <Title text="Sign in"/>
        <section class="login">
            <h1>"Sign in to secretscope"</h1>
            {message.map(|(kind, text)| {
                let role = if kind == "error" { "alert" } else { "status" };
                view! { <p class=format!("login-message {kind}") role=role>{text}</p> }
            })}
            <form method="post" action="/login" class="login-form">
                <input type="hidden" name="next" value=next/>
                <label for="login-name">"Name"</label>
                <input id="login-name" name="name" type="text" autocomplete="username" required autofocus/>
                <label for="login-password">"Password"</label>
                <input id="login-password" name="password" type="password" autocomplete="current-password" required/>
                <button type="submit">"Sign in"</button>
            </form>
            <p class="muted">"Accounts are created by an admin: " <code>"secretscope user add NAME --role ROLE"</code> "."</p>
        </section>
    }
}
