/* The login form, posted by fetch() so that a refusal can be shown on the
 * page (401: wrong user or password; 429: too many attempts, with the
 * server's Retry-After).  Without JavaScript the form posts by itself. */
'use strict';

(function () {
	const form = document.getElementById('login');
	const error = document.getElementById('error');
	const submit = document.getElementById('submit');

	form.addEventListener('submit', async function (ev) {
		ev.preventDefault();
		error.textContent = '';
		submit.disabled = true;
		try {
			const resp = await fetch('/login', {
				method: 'POST',
				credentials: 'same-origin',
				body: new URLSearchParams(new FormData(form)),
			});
			/* Success is a 303 to the overview, which fetch follows. */
			if (resp.ok && resp.redirected &&
			    !new URL(resp.url).pathname.startsWith('/login')) {
				window.location.assign(resp.url);
				return;
			}
			if (resp.status === 429) {
				const after = resp.headers.get('Retry-After');
				error.textContent = 'Too many attempts: try again' +
				    (after ? ' in ' + after + ' s.' : ' later.');
			} else {
				error.textContent = 'Wrong user name or password.';
			}
			document.getElementById('password').value = '';
		} catch (e) {
			error.textContent = 'The dashboard cannot be reached.';
		} finally {
			submit.disabled = false;
		}
	});
})();
