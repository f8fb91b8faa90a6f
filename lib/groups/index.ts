// lib/groups' public surface: groups of users, their members, and who may change them.
export {
  listGroups, findGroup, groupsOfUser, createGroup, updateGroup, deleteGroup, addMember, removeMember,
  newGroupSchema, groupDetailsSchema, groupIdSchema, type GroupChangeResult,
} from "./groups";
