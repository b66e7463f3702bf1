// What each role may see. The API refuses admin routes to developers
// (403), so the dashboard never offers them.
import type { Role } from '../api/types';

export interface NavItem {
  path: string;
  label: string;
  adminOnly: boolean;
}

export const NAV_ITEMS: readonly NavItem[] = [
  { path: '/', label: 'Overview', adminOnly: false },
  { path: '/functions', label: 'Functions', adminOnly: false },
  { path: '/invocations', label: 'Invocations', adminOnly: false },
  { path: '/nodes', label: 'Nodes', adminOnly: false },
  { path: '/usage', label: 'Usage', adminOnly: false },
  { path: '/admin', label: 'Admin', adminOnly: true },
  { path: '/account', label: 'Account', adminOnly: false },
];

export function navItemsFor(role: Role | null | undefined): NavItem[] {
  return NAV_ITEMS.filter((item) => !item.adminOnly || role === 'admin');
}

// Whether `role` may open `pathname` (used by the route guard as well).
export function canOpen(role: Role | null | undefined, pathname: string): boolean {
  const adminPath = pathname === '/admin' || pathname.startsWith('/admin/');
  return !adminPath || role === 'admin';
}

// The nav item a path belongs to ("/functions/hello" -> Functions).
export function activeItem(pathname: string): NavItem | undefined {
  if (pathname === '/') return NAV_ITEMS[0];
  return NAV_ITEMS.find((item) => item.path !== '/' && (pathname === item.path || pathname.startsWith(`${item.path}/`)));
}
