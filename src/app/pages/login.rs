use crate::api::{get_login_options, LoginOptions};
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
    let sso_next = next.clone();
    let options = Resource::new(|| (), |_| get_login_options());
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
    } else if let Some(kind) = q.get("sso_error") {
        let rid = q.get("rid").unwrap_or_default();
        let what = match kind.as_str() {
            "state" | "nonce" | "token" => "Single sign-on could not be verified: the sign-in expired, was started in another browser, or was altered on the way. Start again.",
            "groups" => "You signed in with the identity provider, but none of your groups is given access to secretscope. Ask an admin to map one of your groups (auth.oidc.groups).",
            "local" => "A local account already has your name, so single sign-on cannot use it. Ask an admin.",
            "disabled" => "Your account is disabled. Ask an admin.",
            "name" => "Your name from the identity provider cannot be used as a secretscope user name. Ask an admin.",
            _ => "Single sign-on did not complete: the identity provider refused or could not be reached. Try again in a minute.",
        };
        Some(("error", format!("{what} (request id {rid})")))
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
            <Suspense fallback=|| ()>
                {move || options.get().map(|o| {
                    let o = o.unwrap_or(LoginOptions { password: true, sso: None });
                    let sso = o.sso.map(|label| {
                        let href = format!("/auth/oidc/login?next={}", crate::domain::links::query_value(&sso_next));
                        view! { <p class="sso"><a class="button" href=href data-testid="sso">{format!("Sign in with {label}")}</a></p> }
                    });
                    let form = o.password.then(|| password_form(next.clone()));
                    let only_sso = (!o.password).then(|| view! {
                        <p class="muted">"Sign-in with a password is turned off: use single sign-on."</p>
                    });
                    view! { {sso}{form}{only_sso} }
                })}
            </Suspense>
        </section>
    }
}

/// The name and password form, posted to `POST /login`.
fn password_form(next: String) -> AnyView {
    view! {
        <form method="post" action="/login" class="login-form">
            <input type="hidden" name="next" value=next/>
            <label for="login-name">"Name"</label>
            <input id="login-name" name="name" type="text" autocomplete="username" required autofocus/>
            <label for="login-password">"Password"</label>
            <input id="login-password" name="password" type="password" autocomplete="current-password" required/>
            <button type="submit">"Sign in"</button>
        </form>
        <p class="muted">"Accounts are created by an admin: " <code>"secretscope user add NAME --role ROLE"</code> "."</p>
    }
    .into_any()
}
