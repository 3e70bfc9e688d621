//! The webhook under Telegram's flood control, on the real Spin runtime: the reply to an
//! update whose chat meets a 429 (`parameters.retry_after`) on `sendMessage` or
//! `editMessageText` arrives exactly once — sent directly and retried after the wait, not
//! put in the webhook's answer, where Telegram's refusal would go unseen.

use testkit::edge::Edge;
use testkit::fakes::telegram::Call;
use testkit::updates::{callback, text};

fn delivered(edge: &Edge, method: &str, chat: i64) -> Vec<Call> {
    edge.tg
        .calls_of(method)
        .into_iter()
        .filter(|c| c.status == 200 && c.chat_id() == Some(chat))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_under_flood_control_arrive_exactly_once() {
    let Some(spin) =
        testkit::spin::spin_for_test("replies_under_flood_control_arrive_exactly_once")
    else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let user = 5401;
    edge.start_user(user).await;
    edge.tg.clear_calls();
    edge.tg.flood_chat("sendMessage", user, 1);
    edge.send(&text(edge.update_id(), user, "/help")).await;
    let sent = delivered(&edge, "sendMessage", user);
    assert_eq!(sent.len(), 1, "{:?}", edge.tg.calls());
    assert!(
        sent[0]
            .param("text")
            .as_str()
            .unwrap_or("")
            .contains("Как это работает"),
        "{sent:?}"
    );
    assert!(
        edge.tg
            .calls_of("sendMessage")
            .iter()
            .any(|c| c.status == 429),
        "the flood was met"
    );
    edge.tg.clear_calls();
    edge.tg.flood_chat("editMessageText", user, 1);
    edge.send(&callback(edge.update_id(), user, "help", 10))
        .await;
    let edits = delivered(&edge, "editMessageText", user);
    assert_eq!(edits.len(), 1, "{:?}", edge.tg.calls());
    assert!(
        delivered(&edge, "sendMessage", user).is_empty(),
        "no second copy"
    );
    assert_eq!(edge.tg.calls_of("answerCallbackQuery").len(), 1);
}
