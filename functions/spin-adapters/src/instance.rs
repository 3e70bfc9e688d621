//! Values computed once per Spin instance (configuration that cannot change while the
//! instance lives), shared by its concurrent requests.
//!
//! A new instance often starts with 16 requests at once; they must not all load the same
//! configuration (dozens of host calls each): the first one loads, the others wait for it.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use async_lock::OnceCell;

thread_local! {
    /// One `Rc<OnceCell<Rc<T>>>` per type `T`.
    static CELLS: RefCell<HashMap<TypeId, Rc<dyn Any>>> = RefCell::new(HashMap::new());
}

fn cell_of<T: 'static>() -> Rc<OnceCell<Rc<T>>> {
    CELLS.with(|cells| {
        let mut cells = cells.borrow_mut();
        let entry = cells
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Rc::new(OnceCell::<Rc<T>>::new()) as Rc<dyn Any>);
        // Stored under `T`'s type id, so it is `T`'s cell; a fresh cell otherwise.
        entry
            .clone()
            .downcast::<OnceCell<Rc<T>>>()
            .unwrap_or_else(|_| Rc::new(OnceCell::new()))
    })
}

/// The instance's value of type `T`, loaded by `load` on first use; concurrent first uses
/// wait for one load. A failed load is not kept: the next request tries again.
///
/// # Errors
/// The error of `load`.
pub async fn once_per_instance<T, E, F, Fut>(load: F) -> Result<Rc<T>, E>
where
    T: 'static,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let cell = cell_of::<T>();
    let value = cell
        .get_or_try_init(|| async { load().await.map(Rc::new) })
        .await?;
    Ok(value.clone())
}
