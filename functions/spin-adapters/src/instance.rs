//! Values computed once per Spin instance (configuration that cannot change while the
//! instance lives), shared by its concurrent requests.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

thread_local! {
    static VALUES: RefCell<HashMap<TypeId, Rc<dyn Any>>> = RefCell::new(HashMap::new());
}

/// The instance's value of type `T`, loaded by `load` on first use. A failed load is not
/// kept (the next request tries again); two first requests at once may both load, and the
/// last one's value is kept — `load` must not have side effects.
///
/// # Errors
/// The error of `load`.
pub async fn once_per_instance<T, E, F, Fut>(load: F) -> Result<Rc<T>, E>
where
    T: 'static,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let key = TypeId::of::<T>();
    let cached = VALUES.with(|v| v.borrow().get(&key).cloned());
    if let Some(value) = cached.and_then(|v| v.downcast::<T>().ok()) {
        return Ok(value);
    }
    let value = Rc::new(load().await?);
    VALUES.with(|v| v.borrow_mut().insert(key, value.clone() as Rc<dyn Any>));
    Ok(value)
}
