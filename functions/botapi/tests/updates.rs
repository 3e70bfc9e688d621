//! Real-shaped webhook updates of every kind the bot meets parse into the typed `Update`.

use botapi::Update;

fn parse(json: &str) -> Update {
    serde_json::from_str(json).expect("update parses")
}

#[test]
fn text_command_message() {
    let u = parse(
        r#"{"update_id":815532371,"message":{"message_id":1204,"from":{"id":111222333,"is_bot":false,"first_name":"Анна","last_name":"К","username":"anna_k","language_code":"ru","is_premium":true},"chat":{"id":111222333,"first_name":"Анна","last_name":"К","username":"anna_k","type":"private"},"date":1767225600,"text":"/start@qwen_edit_bot ref_42","entities":[{"offset":0,"length":20,"type":"bot_command"}]}}"#,
    );
    let m = u.message.as_ref().unwrap();
    assert_eq!(m.command(), Some("start"));
    assert_eq!(u.chat_id(), Some(111_222_333));
    let from = u.from().unwrap();
    assert_eq!(from.language_code.as_deref(), Some("ru"));
    assert_eq!(from.username.as_deref(), Some("anna_k"));
    assert_eq!(m.chat.kind, "private");
}

#[test]
fn photo_message_with_caption() {
    let u = parse(
        r#"{"update_id":815532372,"message":{"message_id":1205,"from":{"id":111222333,"is_bot":false,"first_name":"Анна","language_code":"ru"},"chat":{"id":111222333,"first_name":"Анна","type":"private"},"date":1767225660,"photo":[{"file_id":"AgACAgIAAxkBAAIEtWd-s","file_unique_id":"AQADs1","file_size":1419,"width":90,"height":67},{"file_id":"AgACAgIAAxkBAAIEtWd-m","file_unique_id":"AQADm1","file_size":21012,"width":320,"height":240},{"file_id":"AgACAgIAAxkBAAIEtWd-x","file_unique_id":"AQADx1","file_size":152731,"width":1280,"height":960},{"file_id":"AgACAgIAAxkBAAIEtWd-l","file_unique_id":"AQADl1","file_size":96120,"width":800,"height":600}],"caption":"make it a watercolor"}}"#,
    );
    let m = u.message.unwrap();
    assert_eq!(m.photo.len(), 4);
    assert_eq!(m.largest_photo().unwrap().file_id, "AgACAgIAAxkBAAIEtWd-x");
    assert_eq!(m.caption.as_deref(), Some("make it a watercolor"));
    assert!(m.media_group_id.is_none());
}

#[test]
fn photo_sent_as_document() {
    let u = parse(
        r#"{"update_id":815532373,"message":{"message_id":1206,"from":{"id":111222333,"is_bot":false,"first_name":"Анна"},"chat":{"id":111222333,"type":"private"},"date":1767225700,"document":{"file_name":"IMG_2041.PNG","mime_type":"image/png","thumbnail":{"file_id":"AAMCAgADGQEt","file_unique_id":"AQADt","file_size":9000,"width":320,"height":240},"thumb":{"file_id":"AAMCAgADGQEt","file_unique_id":"AQADt","file_size":9000,"width":320,"height":240},"file_id":"BQACAgIAAxkBAAIEtmd","file_unique_id":"AgADd1","file_size":4194304}}}"#,
    );
    let d = u.message.unwrap().document.unwrap();
    assert_eq!(d.file_id, "BQACAgIAAxkBAAIEtmd");
    assert_eq!(d.file_name.as_deref(), Some("IMG_2041.PNG"));
    assert_eq!(d.mime_type.as_deref(), Some("image/png"));
    assert_eq!(d.file_size, Some(4_194_304));
}

#[test]
fn album_photos_share_media_group_id() {
    let first = parse(
        r#"{"update_id":815532374,"message":{"message_id":1207,"from":{"id":5,"is_bot":false,"first_name":"B"},"chat":{"id":5,"type":"private"},"date":1767225800,"media_group_id":"13845670123456789","photo":[{"file_id":"p1s","file_unique_id":"u1s","width":90,"height":90},{"file_id":"p1x","file_unique_id":"u1x","file_size":99000,"width":1024,"height":1024}],"caption":"put us together"}}"#,
    );
    let second = parse(
        r#"{"update_id":815532375,"message":{"message_id":1208,"from":{"id":5,"is_bot":false,"first_name":"B"},"chat":{"id":5,"type":"private"},"date":1767225800,"media_group_id":"13845670123456789","photo":[{"file_id":"p2x","file_unique_id":"u2x","file_size":88000,"width":1024,"height":768}]}}"#,
    );
    let (a, b) = (first.message.unwrap(), second.message.unwrap());
    assert_eq!(a.media_group_id, b.media_group_id);
    assert_eq!(a.largest_photo().unwrap().file_id, "p1x");
    assert!(b.caption.is_none());
}

#[test]
fn callback_query() {
    let u = parse(
        r#"{"update_id":815532376,"callback_query":{"id":"4382bfdwdsb323b2d9","from":{"id":111222333,"is_bot":false,"first_name":"Анна","language_code":"en"},"message":{"message_id":1209,"from":{"id":123456789,"is_bot":true,"first_name":"QwenEditBot","username":"qwen_edit_bot"},"chat":{"id":111222333,"type":"private"},"date":1767225900,"text":"Choose a preset","reply_markup":{"inline_keyboard":[[{"text":"Anime","callback_data":"preset:anime"}],[{"text":"Site","url":"https://example.org"}]]}},"chat_instance":"-8839923129312","data":"preset:anime"}}"#,
    );
    let q = u.callback_query.as_ref().unwrap();
    assert_eq!(q.data.as_deref(), Some("preset:anime"));
    assert_eq!(u.chat_id(), Some(111_222_333));
    let kb = q.message.as_ref().unwrap().reply_markup.as_ref().unwrap();
    assert_eq!(
        kb.inline_keyboard[1][0].url.as_deref(),
        Some("https://example.org")
    );
}

#[test]
fn callback_query_on_inaccessible_message() {
    let u = parse(
        r#"{"update_id":815532377,"callback_query":{"id":"99","from":{"id":7,"is_bot":false,"first_name":"C"},"message":{"chat":{"id":7,"type":"private"},"message_id":12,"date":0},"chat_instance":"1","data":"menu"}}"#,
    );
    assert_eq!(u.callback_query.unwrap().message.unwrap().date, 0);
}

#[test]
fn pre_checkout_query_in_stars() {
    let u = parse(
        r#"{"update_id":815532378,"pre_checkout_query":{"id":"2091846290318231","from":{"id":111222333,"is_bot":false,"first_name":"Анна","language_code":"ru"},"currency":"XTR","total_amount":50,"invoice_payload":"topup:u1:100"}}"#,
    );
    let q = u.pre_checkout_query.as_ref().unwrap();
    assert_eq!((q.currency.as_str(), q.total_amount), ("XTR", 50));
    assert_eq!(q.invoice_payload, "topup:u1:100");
    assert_eq!(u.from().unwrap().id, 111_222_333);
    assert_eq!(u.chat_id(), None);
}

#[test]
fn successful_payment_message() {
    let u = parse(
        r#"{"update_id":815532379,"message":{"message_id":1210,"from":{"id":111222333,"is_bot":false,"first_name":"Анна"},"chat":{"id":111222333,"type":"private"},"date":1767226000,"successful_payment":{"currency":"XTR","total_amount":50,"invoice_payload":"topup:u1:100","telegram_payment_charge_id":"stxAbCdEf0123456789","provider_payment_charge_id":""}}}"#,
    );
    let p = u.message.unwrap().successful_payment.unwrap();
    assert_eq!(p.telegram_payment_charge_id, "stxAbCdEf0123456789");
    assert_eq!(p.total_amount, 50);
    assert!(p.provider_payment_charge_id.is_empty());
}

#[test]
fn my_chat_member_user_blocked_the_bot() {
    let u = parse(
        r#"{"update_id":815532380,"my_chat_member":{"chat":{"id":111222333,"first_name":"Анна","type":"private"},"from":{"id":111222333,"is_bot":false,"first_name":"Анна"},"date":1767226100,"old_chat_member":{"user":{"id":123456789,"is_bot":true,"first_name":"QwenEditBot","username":"qwen_edit_bot"},"status":"member"},"new_chat_member":{"user":{"id":123456789,"is_bot":true,"first_name":"QwenEditBot","username":"qwen_edit_bot"},"status":"kicked","until_date":0}}}"#,
    );
    let m = u.my_chat_member.as_ref().unwrap();
    assert_eq!(m.old_chat_member.status, "member");
    assert_eq!(m.new_chat_member.status, "kicked");
    assert!(m.new_chat_member.user.is_bot);
    assert_eq!(u.chat_id(), Some(111_222_333));
}

#[test]
fn sticker_and_voice_parse_as_opaque() {
    let u = parse(
        r#"{"update_id":815532381,"message":{"message_id":1211,"from":{"id":5,"is_bot":false,"first_name":"B"},"chat":{"id":5,"type":"private"},"date":1767226200,"sticker":{"width":512,"height":512,"emoji":"😂","set_name":"Cats","is_animated":false,"is_video":false,"type":"regular","thumbnail":{"file_id":"t","file_unique_id":"tu","file_size":5000,"width":128,"height":128},"file_id":"CAACAgIAAxkBAAIEu","file_unique_id":"AgADsti","file_size":26000}}}"#,
    );
    let m = u.message.unwrap();
    assert!(m.sticker.is_some());
    assert!(m.text.is_none() && m.photo.is_empty() && m.document.is_none());
    let v = parse(
        r#"{"update_id":815532382,"message":{"message_id":1212,"chat":{"id":5,"type":"private"},"date":1,"voice":{"duration":3,"mime_type":"audio/ogg","file_id":"AwAC","file_unique_id":"AgAD","file_size":9000}}}"#,
    );
    assert!(v.message.unwrap().voice.is_some());
}

#[test]
fn edited_message() {
    let u = parse(
        r#"{"update_id":815532383,"edited_message":{"message_id":1204,"from":{"id":5,"is_bot":false,"first_name":"B"},"chat":{"id":5,"type":"private"},"date":1767225600,"edit_date":1767225650,"text":"fixed typo"}}"#,
    );
    assert!(u.message.is_none());
    let m = u.edited_message.as_ref().unwrap();
    assert_eq!(m.edit_date, Some(1_767_225_650));
    assert_eq!(u.any_message().unwrap().text.as_deref(), Some("fixed typo"));
}

#[test]
fn group_message_and_reply() {
    let u = parse(
        r#"{"update_id":815532384,"message":{"message_id":77,"from":{"id":5,"is_bot":false,"first_name":"B"},"chat":{"id":-1001987654321,"title":"Editors","type":"supergroup","is_forum":false},"date":1767226300,"reply_to_message":{"message_id":70,"chat":{"id":-1001987654321,"type":"supergroup"},"date":1767226000,"text":"earlier"},"text":"this one"}}"#,
    );
    let m = u.message.unwrap();
    assert_eq!(m.chat.kind, "supergroup");
    assert_eq!(m.reply_to_message.unwrap().message_id, 70);
}

#[test]
fn unknown_update_kinds_still_parse() {
    let u = parse(
        r#"{"update_id":815532385,"message_reaction":{"chat":{"id":5,"type":"private"},"message_id":3,"date":1,"old_reaction":[],"new_reaction":[{"type":"emoji","emoji":"👍"}]}}"#,
    );
    assert_eq!(u.update_id, 815_532_385);
    assert!(u.message.is_none() && u.callback_query.is_none() && u.chat_id().is_none());
    let bare = parse(r#"{"update_id":1}"#);
    assert_eq!(
        bare,
        Update {
            update_id: 1,
            ..Update::default()
        }
    );
}

#[test]
fn update_round_trips_through_json() {
    let src = r#"{"update_id":9,"message":{"message_id":1,"date":2,"chat":{"id":3,"type":"private"},"text":"hi"}}"#;
    let u = parse(src);
    let again: Update = serde_json::from_str(&serde_json::to_string(&u).unwrap()).unwrap();
    assert_eq!(u, again);
}
